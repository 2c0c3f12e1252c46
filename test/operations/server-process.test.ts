import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../helpers/app.js';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';
import { proxiedTestDatabase } from '../helpers/tcp-proxy.js';

let database: Awaited<ReturnType<typeof proxiedTestDatabase>>;
let dataDir: string;

beforeAll(async () => {
  database = await proxiedTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-proc-'));
});
afterAll(async () => {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('server process', () => {
  it('finishes in-flight requests on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const { child } = await startServer({
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
    });
    const exited = exitCode(child);
    // Slow the database down so /ready is still running when the signal arrives.
    database.proxy.delayMs = 800;
    const inFlight = fetch(`http://127.0.0.1:${port}/ready`);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await exited).toBe(0);
    database.proxy.delayMs = 0;
  });

  it('keeps its data across a restart', async () => {
    const port = await freePort();
    const env = { PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: database.directUrl };
    const first = await startServer(env);
    const login = { email: TEST_ENV.SUPER_ADMIN_EMAIL, password: TEST_ENV.SUPER_ADMIN_PASSWORD };
    expect(first.output()).toContain('/docs');
    first.child.kill('SIGTERM');
    expect(await exitCode(first.child)).toBe(0);

    const second = await startServer(env);
    // The super admin seeded by the first start is still there (and not seeded twice).
    expect(second.output()).not.toContain('Super admin:');
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(res.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await exitCode(second.child)).toBe(0);
    expect(login.email).toBeTruthy();
  });
});
