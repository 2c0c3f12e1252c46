import path from 'node:path';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/client.js';
import type { MigrationResult } from '../db/migrate.js';
import type { PaymentGateway } from '../modules/payments/gateway.js';
import type { Mailer } from './mail/mailer.js';

/** What start-up did and which integrations are live, for the lines the server prints once it listens. */
export interface StartUpFacts {
  config: Config;
  database: DatabaseHandle['kind'];
  migrations: MigrationResult;
  /** Demo tours loaded now, with the demo accounts (their password is printed only then); undefined when SEED_DEMO is off. */
  demoTours: number | undefined;
  mail: Mailer['kind'];
  payments: PaymentGateway['name'];
  /** Whether this start created the super admin (a generated password is printed only then). */
  superAdminCreated: boolean;
  /** Demo accounts present that sign in with the development demo password. */
  demoAccounts: string[];
  /** The process's memory settings (src/lib/memory-settings.ts `describeMemory`). */
  memory: string;
}

/** A PostgreSQL URL without its credentials. */
function databaseLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'the configured server';
  }
}

const minuteUtc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function startUpSummary(facts: StartUpFacts): string {
  const { config, migrations } = facts;
  const base = config.publicUrl;
  const database =
    facts.database === 'pglite'
      ? `embedded (PGlite in ${path.join(config.dataDir, 'pglite')}; set DATABASE_URL for PostgreSQL)`
      : `PostgreSQL at ${databaseLocation(config.databaseUrl ?? '')}`;
  const migrated =
    migrations.applied > 0
      ? `${migrations.applied} applied now, ${migrations.total} in total`
      : `up to date (${migrations.total} applied earlier)`;
  const demo =
    facts.demoTours === undefined
      ? 'off (SEED_DEMO=false)'
      : facts.demoTours > 0
        ? `${facts.demoTours} demo tours loaded into the empty catalogue`
        : 'not loaded: the catalogue already has tours';
  const mail =
    facts.mail === 'smtp' && config.smtp
      ? `SMTP via ${config.smtp.host}:${config.smtp.port}`
      : `written as .eml files to ${path.join(config.dataDir, 'mail')} (set SMTP_HOST to send them)`;
  const payments =
    facts.payments === 'sslcommerz'
      ? `SSLCommerz (${config.sslcommerz?.paymentApi.includes('sandbox') ? 'sandbox' : 'live'})`
      : 'built-in local gateway, no money moves (set SSL_STORE_ID and SSL_STORE_PASS for SSLCommerz)';
  const lines = [
    `Tour booking API listening on ${base} (${config.nodeEnv})`,
    `  Database:   ${database}`,
    `  Migrations: ${migrated}`,
    `  Demo data:  ${demo}`,
    `  Mail:       ${mail}`,
    `  Payments:   ${payments}`,
    `  Memory:     ${facts.memory}`,
    `  API:  ${base}/api/v1`,
    `  Docs: ${base}/docs`,
  ];
  // A generated password is shown once, by the start that creates the account with it, so it is not copied
  // into every log file; afterwards the summary says where it is kept.
  const { superAdmin } = config;
  if (superAdmin.generatedPassword) {
    const { generatedAt, file } = superAdmin.generatedPassword;
    lines.push(
      facts.superAdminCreated
        ? `  Super admin: ${superAdmin.email} / ${superAdmin.password} (password generated ${minuteUtc(generatedAt)}, ` +
            `kept in ${file}; set SUPER_ADMIN_PASSWORD to choose it)`
        : `  Super admin: ${superAdmin.email}, password kept in ${file} (generated ${minuteUtc(generatedAt)}; ` +
            'set SUPER_ADMIN_PASSWORD to choose it)',
    );
  } else if (facts.superAdminCreated) {
    lines.push(`  Super admin: ${superAdmin.email} created, with the password in SUPER_ADMIN_PASSWORD`);
  }
  if (config.demoAccounts && facts.demoAccounts.length > 0) {
    const accounts = facts.demoAccounts.join(', ');
    const { password, file } = config.demoAccounts;
    lines.push(
      facts.demoTours
        ? `  Demo accounts: ${accounts} / ${password} (kept in ${file})`
        : `  Demo accounts: ${accounts}, password kept in ${file}`,
    );
  }
  return lines.join('\n');
}
