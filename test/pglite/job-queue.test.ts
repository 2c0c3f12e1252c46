import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { jobs } from '../../src/db/schema/index.js';
import { enqueueJob, type JobHandlers, retryAfter, runDueJobs } from '../../src/lib/job-queue.js';

let dataDir: string;
let database: DatabaseHandle;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-pglite-jobs-'));
  database = await openDatabase({ dataDir });
  await runMigrations(database);
});
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('job queue on the embedded database', () => {
  it('enqueues in a transaction, claims, polls, retries and finishes jobs', async () => {
    const { db } = database;
    const now = new Date();
    await expect(
      db.transaction(async (tx) => {
        await enqueueJob(tx, { kind: 'demo.rolled-back', key: 'rolled-back', runAt: now });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await db.transaction(async (tx) => {
      expect(await enqueueJob(tx, { kind: 'demo.poll', key: 'poll:1', runAt: now })).toBe(true);
      expect(await enqueueJob(tx, { kind: 'demo.poll', key: 'poll:1', runAt: now })).toBe(false);
      await enqueueJob(tx, { kind: 'demo.flaky', key: 'flaky:1', runAt: now });
    });
    let polls = 0;
    let flakyCalls = 0;
    const handlers: JobHandlers = {
      'demo.rolled-back': async () => {},
      'demo.poll': async () => (++polls < 2 ? retryAfter(5) : undefined),
      'demo.flaky': async () => {
        if (++flakyCalls === 1) throw new Error('first call fails');
      },
    };
    const backoff = { baseSeconds: 5, maxSeconds: 60 };
    expect(await runDueJobs(db, handlers, now, { backoff })).toMatchObject({
      claimed: 2,
      rescheduled: 1,
      failed: 1,
    });
    expect(await runDueJobs(db, handlers, new Date(now.getTime() + 5000), { backoff })).toMatchObject({
      claimed: 2,
      done: 2,
    });
    const rows = await db.select().from(jobs);
    expect(rows.map((r) => [r.key, r.status, r.attempts]).sort()).toEqual([
      ['flaky:1', 'DONE', 1],
      ['poll:1', 'DONE', 0],
    ]);
  });
});
