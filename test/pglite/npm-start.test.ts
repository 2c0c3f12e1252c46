import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';

// What `npm start` runs (scripts/start.mjs) on a fresh machine: the compiled server on the embedded database
// with the demo catalogue, started with the production memory settings unless the operator chose their own.

let dataDir: string;
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-npm-start-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** The processes `pid` started (Linux /proc); empty when it started none or /proc is missing. */
function childrenOf(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The environment a process was executed with (Linux /proc), or undefined where it cannot be read. */
function environOf(pid: number): Record<string, string> | undefined {
  const file = `/proc/${pid}/environ`;
  if (!existsSync(file)) return undefined;
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

const memoryLine = (output: string) => /^ {2}Memory: +(.*)$/m.exec(output)?.[1] ?? '';

async function stop(child: Awaited<ReturnType<typeof startServer>>['child']) {
  const exited = exitCode(child);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}

describe('npm start', () => {
  it('runs the server on the embedded database with demo data, with the production memory settings', async () => {
    // The first start may compile the server and initialises the database files: slow on a busy machine.
    const server = await startServer(
      { PORT: String(port), DATA_DIR: dataDir },
      { bare: true, npmStart: true, startTimeoutMs: 240_000 },
    );
    try {
      const out = server.output();
      expect(out).toContain('embedded (PGlite');
      expect(out).toMatch(/Demo data: +\d+ demo tours loaded/);
      const threads = String(Math.max(2, os.availableParallelism()));
      const memory = memoryLine(out);
      expect(memory).toContain('(--max-old-space-size=256)');
      expect(memory).toContain(`UV_THREADPOOL_SIZE=${threads}`);
      expect(memory).toContain('MALLOC_ARENA_MAX=2');
      // V8's own figure: the 256 MiB old space plus the young generation, far below its default.
      expect(Number(/heap limit (\d+) MiB/.exec(memory)?.[1])).toBeLessThan(400);

      // The settings glibc and libuv read at exec are in the server process's own start-up environment.
      const [serverPid] = childrenOf(server.child.pid!);
      const environ = serverPid === undefined ? undefined : environOf(serverPid);
      if (environ) {
        expect(environ.UV_THREADPOOL_SIZE).toBe(threads);
        expect(environ.MALLOC_ARENA_MAX).toBe('2');
      }

      const tours = (await (await fetch(`${base}/api/v1/tour`)).json()) as { meta: { total: number } };
      expect(tours.meta.total).toBeGreaterThan(0);
    } finally {
      // SIGTERM reaches the server through the launcher; the launcher exits with the server's code.
      await stop(server.child);
    }
  }, 300_000);

  it("keeps the operator's own settings, and runs the server in its own process when all are set", async () => {
    const partial = await startServer(
      {
        PORT: String(port),
        DATA_DIR: dataDir,
        NODE_OPTIONS: '--max-old-space-size=200',
        UV_THREADPOOL_SIZE: '3',
      },
      { bare: true, npmStart: true, startTimeoutMs: 120_000 },
    );
    try {
      const memory = memoryLine(partial.output());
      expect(memory).toContain('(--max-old-space-size=200)');
      expect(memory).toContain('UV_THREADPOOL_SIZE=3');
      expect(memory).toContain('MALLOC_ARENA_MAX=2');
    } finally {
      await stop(partial.child);
    }

    const own = await startServer(
      {
        PORT: String(port),
        DATA_DIR: dataDir,
        NODE_OPTIONS: '--max-old-space-size=200',
        UV_THREADPOOL_SIZE: '3',
        MALLOC_ARENA_MAX: '1',
      },
      { bare: true, npmStart: true, startTimeoutMs: 120_000 },
    );
    try {
      expect(memoryLine(own.output())).toContain(
        '(--max-old-space-size=200), UV_THREADPOOL_SIZE=3, MALLOC_ARENA_MAX=1',
      );
      // Nothing to add, so no second process: the launcher is the server.
      expect(childrenOf(own.child.pid!)).toEqual([]);
      expect((await fetch(`${base}/health`)).status).toBe(200);
    } finally {
      await stop(own.child);
    }
  }, 300_000);
});
