import net from 'node:net';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, readSettings } from './config.js';
import { openDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { seedSuperAdmin } from './db/seed.js';
import { seedDemoCatalogue } from './db/seed-demo.js';
import { demoAccountsPresent } from './db/seed-demo-accounts.js';
import { chooseLogFormat, logOutput } from './lib/logging.js';
import { describeMemory } from './lib/memory-settings.js';
import { startUpSummary } from './lib/start-up-summary.js';

/**
 * Why the server could not listen on `host:port`, or undefined when it can. Checked before the database is
 * opened: otherwise a second `npm start` migrates and seeds (or locks) a database before `listen` reports the
 * clash. A port taken between this check and `listen` still fails there, as before.
 */
function portProblem(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use (is another server running?): stop it or set PORT'
          : err.code === 'EACCES'
            ? 'needs privileges this user lacks: set PORT above 1023'
            : `cannot be listened on (${err.code ?? err.message}): check HOST and PORT`;
      resolve(`Port ${port} on ${host} ${why}. Nothing was started.`);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    const { env, envFile } = readSettings();
    if (envFile) console.log(`Settings from .env (${envFile}); variables set in the environment win over it`);
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }

  const unusable = await portProblem(config.host, config.port);
  if (unusable) {
    console.error(unusable);
    process.exit(1);
  }

  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
    connectWaitMs: config.requestTimeoutMs,
    onPoolError: (err) => console.warn(`database pool error: ${err.message}`),
  });
  const migrations = await runMigrations(database);
  const app = await buildApp({
    config,
    database,
    logger: logOutput(chooseLogFormat(config, process.stdout.isTTY === true)),
  });
  const superAdminCreated = await seedSuperAdmin(database.db, config);
  const demoTours = config.seedDemo
    ? await seedDemoCatalogue(database.db, app.ctx.storage, app.ctx.clock, config.demoAccounts?.password)
    : undefined;
  const demoAccounts = config.seedDemo && config.demoAccounts ? await demoAccountsPresent(database.db) : [];

  app.server.requestTimeout = config.requestTimeoutMs;
  app.server.headersTimeout = 15_000;
  app.server.keepAliveTimeout = 65_000;

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      app.log.error('shutdown timed out, exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection'));

  await app.listen({ port: config.port, host: config.host });
  console.log(
    startUpSummary({
      config,
      database: database.kind,
      migrations,
      demoTours,
      mail: app.ctx.mailer.kind,
      payments: app.ctx.gateway.name,
      superAdminCreated,
      demoAccounts,
      memory: describeMemory(),
    }),
  );
}

main().catch((err) => {
  console.error('Failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
