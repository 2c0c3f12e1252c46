import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { type AppDeps, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { databaseUrl, quoteIdent, withAdminClient } from './postgres.js';

/** Settings every test app starts from; a test overrides what it is about. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  JWT_ACCESS_SECRET: 'test-access-secret-0123456789abcdef',
  JWT_REFRESH_SECRET: 'test-refresh-secret-0123456789abcdef',
  SUPER_ADMIN_EMAIL: 'super@test.local',
  SUPER_ADMIN_PASSWORD: 'Super-Admin-Pass-1',
  FRONTEND_URL: 'http://localhost:3000',
  PUBLIC_URL: 'http://api.test.local',
  SEED_DEMO: 'false',
  RATE_LIMIT_MAX: '100000',
  // Tests re-book a departure right after letting a hold go; the tests about the cool-down turn it on.
  REHOLD_COOLDOWN_MINUTES: '0',
};

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  database: DatabaseHandle;
  databaseUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database copied from the run's migrated template. */
export async function createTestDatabase(): Promise<string> {
  const name = `${inject('runId')}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((c) =>
    c.query(`create database ${quoteIdent(name)} template ${quoteIdent(inject('templateDatabase'))}`),
  );
  return name;
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdminClient((c) => c.query(`drop database if exists ${quoteIdent(name)} with (force)`));
}

export interface TestAppOptions extends Partial<Omit<AppDeps, 'config' | 'database'>> {
  /** Settings over TEST_ENV; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Reuse an existing database (e.g. a second instance) instead of creating one. */
  databaseName?: string;
  /** Runs after the app is built and before it is ready (e.g. to add a route a test needs). */
  beforeReady?: (app: FastifyInstance) => void | Promise<void>;
}

/** Builds the app on its own database and data directory; `close()` removes both. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownDatabase = !options.databaseName;
  const name = options.databaseName ?? (await createTestDatabase());
  const url = databaseUrl(name);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tour-test-'));
  const config = loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, DATABASE_URL: url, ...options.env });
  // A small pool by default (many test files run at once); a test about load may ask for the real size.
  const poolMax = options.env?.DATABASE_POOL_MAX ? config.databasePoolMax : 10;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir, poolMax });
  const { env: _env, databaseName: _db, beforeReady, ...deps } = options;
  const app = await buildApp({ runJobs: false, logger: false, ...deps, config, database });
  await beforeReady?.(app);
  await app.ready();
  return {
    app,
    ctx: app.ctx,
    database,
    databaseUrl: url,
    dataDir,
    async close() {
      await app.close();
      await database.close();
      if (ownDatabase) await dropTestDatabase(name);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
