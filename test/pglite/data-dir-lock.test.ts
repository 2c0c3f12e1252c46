import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';

// The embedded database keeps its pages in one process's memory: a second process on the same files would
// answer from its own copy and lose the other's writes, so it must refuse to start.

let dataDir: string;
const started: Awaited<ReturnType<typeof startServer>>[] = [];

async function start() {
  const env = { PORT: String(await freePort()), DATA_DIR: dataDir, DATABASE_URL: '' };
  const server = await startServer(env, { startTimeoutMs: 120_000 });
  started.push(server);
  return server;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-lock-'));
});
afterAll(async () => {
  for (const { child } of started) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    await exitCode(child);
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('one process per embedded database', () => {
  it('refuses a second process on the same DATA_DIR, naming the pid that holds it', async () => {
    const first = await start();

    const second = start();
    await expect(second).rejects.toThrow(/exited with 1:[\s\S]*in use by another process/);
    await expect(second).rejects.toThrow(`(pid ${first.child.pid})`);
  }, 180_000);

  it('starts again after the holder was killed without releasing its lock, and releases it on shutdown', async () => {
    const holder = started[0]!.child;
    holder.kill('SIGKILL');
    await exitCode(holder);

    const restarted = await start();
    restarted.child.kill('SIGTERM');
    expect(await exitCode(restarted.child)).toBe(0);
    expect(existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  }, 180_000);
});
