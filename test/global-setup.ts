import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { databaseUrl, quoteIdent, withAdminClient } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    runId: string;
  }
}

/** Migrates one template database per run; each test file copies it (CREATE DATABASE ... TEMPLATE). */
export default async function setup(project: TestProject) {
  const runId = `tt_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${runId}_tpl`;
  await withAdminClient((c) => c.query(`create database ${quoteIdent(template)}`));
  const handle = await openDatabase({ databaseUrl: databaseUrl(template), dataDir: '', poolMax: 2 });
  await runMigrations(handle);
  await handle.close();
  project.provide('templateDatabase', template);
  project.provide('runId', runId);

  return async () => {
    await withAdminClient(async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        'select datname from pg_database where datname like $1',
        [`${runId}%`],
      );
      for (const { datname } of rows) {
        await c.query(`drop database if exists ${quoteIdent(datname)} with (force)`);
      }
    });
  };
}
