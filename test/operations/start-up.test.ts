import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, dropTestDatabase, TEST_ENV } from '../helpers/app.js';
import { databaseUrl, quoteIdent, withAdminClient } from '../helpers/postgres.js';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';

let dir: string;
const databases: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tour-start-up-'));
});
afterAll(async () => {
  await Promise.all(databases.map(dropTestDatabase));
  await rm(dir, { recursive: true, force: true });
});

async function waitForOutput(server: { output(): string }, text: string) {
  for (let i = 0; i < 100 && !server.output().includes(text); i++)
    await new Promise((r) => setTimeout(r, 50));
  return server.output();
}

/** The tables of a database, migrations' bookkeeping included. */
async function tablesIn(name: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema')`,
    );
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

async function stop(child: Awaited<ReturnType<typeof startServer>>['child']) {
  const exited = exitCode(child);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}

// These start real server processes (two of them on an empty database, which migrate and seed it): seconds on
// an idle machine, far more on a busy one. The limit only guards against a hang.
describe('start-up', { timeout: 120_000 }, () => {
  it('reads a .env in the working directory, and a variable set in the environment wins over it', async () => {
    const name = await createTestDatabase();
    databases.push(name);
    const port = await freePort();
    const cwd = await mkdtemp(path.join(dir, 'cwd-'));
    await writeFile(
      path.join(cwd, '.env'),
      [`PORT=${port}`, 'SUPER_ADMIN_EMAIL=from-file@example.com', `DATA_DIR=${path.join(cwd, 'data')}`].join(
        '\n',
      ),
    );
    const server = await startServer({ DATABASE_URL: databaseUrl(name) }, { cwd });
    try {
      const out = server.output();
      expect(out).toContain(`Settings from .env (${path.join(cwd, '.env')})`);
      // PORT came from the file; the super admin's email from the environment (TEST_ENV), not the file.
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(out).toContain(`Super admin: ${TEST_ENV.SUPER_ADMIN_EMAIL}`);
      expect(out).not.toContain('from-file@example.com');
    } finally {
      await stop(server.child);
    }
  });

  it('logs one readable line per request in development, and JSON lines otherwise', async () => {
    const name = await createTestDatabase();
    databases.push(name);
    const env = { DATABASE_URL: databaseUrl(name), DATA_DIR: path.join(dir, 'logs'), LOG_LEVEL: 'info' };

    const devPort = await freePort();
    const dev = await startServer({ ...env, NODE_ENV: 'development', PORT: String(devPort) });
    try {
      await fetch(`http://127.0.0.1:${devPort}/health`);
      await fetch(`http://127.0.0.1:${devPort}/api/v1/nope`);
      const out = await waitForOutput(dev, 'GET /api/v1/nope');
      expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/health 200 \d+ ms$/m);
      // An error answer's line ends with the code the client got.
      expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/api\/v1\/nope 404 \d+ ms NOT_FOUND$/m);
      expect(out).not.toMatch(/^\{/m);
    } finally {
      await stop(dev.child);
    }

    const jsonPort = await freePort();
    const json = await startServer({ ...env, NODE_ENV: 'test', PORT: String(jsonPort) });
    try {
      await fetch(`http://127.0.0.1:${jsonPort}/health`);
      const out = await waitForOutput(json, '"url":"/health"');
      const requests = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .filter((l) => l.req);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({
        level: 30,
        req: { method: 'GET', url: '/health' },
        res: { statusCode: 200 },
      });
      expect(requests[0].responseTime).toEqual(expect.any(Number));
    } finally {
      await stop(json.child);
    }
  });

  it('says what it did and which database, mail and payments it uses; the printed API URL answers', async () => {
    // An empty database, so every migration runs.
    const name = `${inject('runId')}_empty_${Date.now()}`;
    await withAdminClient((c) => c.query(`create database ${quoteIdent(name)}`));
    databases.push(name);
    const migrationCount = JSON.parse(
      await readFile(new URL('../../migrations/meta/_journal.json', import.meta.url), 'utf8'),
    ).entries.length;
    const dataDir = path.join(dir, 'summary');
    const port = await freePort();
    const env = {
      DATABASE_URL: databaseUrl(name),
      DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SEED_DEMO: 'true',
      SUPER_ADMIN_PASSWORD: '',
    };
    const { hostname, port: dbPort } = new URL(databaseUrl(name));

    const first = await startServer(env);
    const out = first.output();
    await stop(first.child);
    const secrets = JSON.parse(await readFile(path.join(dataDir, 'dev-secrets.json'), 'utf8'));
    const generatedAt = `${secrets.generatedAt.slice(0, 16).replace('T', ' ')} UTC`;
    expect(out).toContain(`Database:   PostgreSQL at ${hostname}:${dbPort}/${name}`);
    expect(out).not.toContain('postgres:postgres@');
    expect(out).toContain(`Migrations: ${migrationCount} applied now, ${migrationCount} in total`);
    expect(out).toMatch(/Demo data: {2}\d+ demo tours loaded into the empty catalogue/);
    expect(out).toContain(`Mail:       written as .eml files to ${path.join(dataDir, 'mail')}`);
    expect(out).toContain('Payments:   built-in local gateway');
    expect(out).toContain(`API:  http://127.0.0.1:${port}/api/v1`);
    expect(out).toContain(`Docs: http://127.0.0.1:${port}/docs`);
    expect(out).toContain(
      `Super admin: ${TEST_ENV.SUPER_ADMIN_EMAIL} / ${secrets.superAdminPassword} (password generated ${generatedAt}, ` +
        `kept in ${path.join(dataDir, 'dev-secrets.json')}`,
    );
    expect(out).toContain(
      `Demo accounts: guide@demo.local, traveller@demo.local / ${secrets.demoPassword} ` +
        `(kept in ${path.join(dataDir, 'dev-secrets.json')})`,
    );
    // Nothing about the Node version or a deprecated option.
    expect(out).not.toMatch(/warning|deprecat|unsupported|EBADENGINE/i);

    const again = await startServer(env);
    try {
      const second = again.output();
      expect(second).toContain(`Migrations: up to date (${migrationCount} applied earlier)`);
      expect(second).toContain('Demo data:  not loaded: the catalogue already has tours');
      // The generated passwords went to the first start's output only; later starts say where they are kept.
      const kept = path.join(dataDir, 'dev-secrets.json');
      expect(second).not.toContain(secrets.superAdminPassword);
      expect(second).not.toContain(secrets.demoPassword);
      expect(second).toContain(
        `Super admin: ${TEST_ENV.SUPER_ADMIN_EMAIL}, password kept in ${kept} (generated ${generatedAt}; `,
      );
      expect(second).toContain(
        `Demo accounts: guide@demo.local, traveller@demo.local, password kept in ${kept}`,
      );

      const index = await fetch(`http://127.0.0.1:${port}/api/v1`);
      expect(index.status).toBe(200);
      expect(await index.json()).toEqual({
        statusCode: 200,
        success: true,
        message: 'Tour Booking API v1',
        data: {
          name: 'Tour Booking API',
          version: '1.0.0',
          docs: `http://127.0.0.1:${port}/docs`,
          openapi: `http://127.0.0.1:${port}/openapi.json`,
          health: `http://127.0.0.1:${port}/health`,
        },
      });
      expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(200);
    } finally {
      await stop(again.child);
    }
  });

  it('on a port already in use, stops before opening the database: nothing migrated, nothing seeded', async () => {
    const name = `${inject('runId')}_busy_${Date.now()}`;
    await withAdminClient((c) => c.query(`create database ${quoteIdent(name)}`));
    databases.push(name);
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const failed = startServer({
        DATABASE_URL: databaseUrl(name),
        DATA_DIR: path.join(dir, 'busy'),
        PORT: String(port),
        SEED_DEMO: 'true',
      });
      const error = await failed.then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(error).toContain('server exited with 1');
      expect(error).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(error).toContain('Nothing was started');
      expect(await tablesIn(name)).toEqual([]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("the README's start-up sample shows as many migrations as there are", async () => {
    const migrationCount = JSON.parse(
      await readFile(new URL('../../migrations/meta/_journal.json', import.meta.url), 'utf8'),
    ).entries.length;
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /^ {2}Migrations: (\d+) applied now, (\d+) in total$/m.exec(readme);
    expect(sample, 'README.md has a start-up sample with its Migrations line').not.toBeNull();
    expect(
      [Number(sample![1]), Number(sample![2])],
      'README.md: update the Migrations line of the start-up sample to the number of migrations',
    ).toEqual([migrationCount, migrationCount]);
  });
});
