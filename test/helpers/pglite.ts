import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { seedSuperAdmin } from '../../src/db/seed.js';
import { TEST_ENV } from './app.js';

/** The embedded default as `npm start` runs it: PGlite in DATA_DIR, migrated and seeded. */
export async function buildPgliteApp(dataDir: string, env: Record<string, string> = {}) {
  const config = loadConfig({ ...TEST_ENV, DATA_DIR: dataDir, ...env });
  const database: DatabaseHandle = await openDatabase({ dataDir: config.dataDir });
  await runMigrations(database);
  await seedSuperAdmin(database.db, config);
  const app: FastifyInstance = await buildApp({ config, database, runJobs: false, logger: false });
  await app.ready();
  return {
    app,
    config,
    database,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
