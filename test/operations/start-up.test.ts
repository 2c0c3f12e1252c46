import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase, TEST_ENV } from '../helpers/app.js';
import { databaseUrl } from '../helpers/postgres.js';
import { exitCode, startServer } from '../helpers/server-process.js';

let dir: string;
const databases: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tour-start-up-'));
});
afterAll(async () => {
  await Promise.all(databases.map(dropTestDatabase));
  await rm(dir, { recursive: true, force: true });
});

const freePort = () => 6200 + Math.floor(Math.random() * 700);

async function stop(child: Awaited<ReturnType<typeof startServer>>['child']) {
  const exited = exitCode(child);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}

describe('start-up', () => {
  it('reads a .env in the working directory, and a variable set in the environment wins over it', async () => {
    const name = await createTestDatabase();
    databases.push(name);
    const port = freePort();
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
});
