import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { jobs } from '../../src/db/schema/index.js';
import {
  enqueueJob,
  type JobHandlers,
  type JobRow,
  type JobRunSummary,
  retryAfter,
  runDueJobs,
} from '../../src/lib/job-queue.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
/** A second connection pool on the same database: another instance's worker. */
let other: DatabaseHandle;

beforeAll(async () => {
  t = await buildTestApp();
  other = await openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, poolMax: 5 });
});
afterAll(async () => {
  await other?.close();
  await t?.close();
});

const db = () => t.ctx.db;
const seconds = (from: Date, s: number) => new Date(from.getTime() + s * 1000);
let counter = 0;
/** A job kind of its own per test, so workers of one test never see another test's jobs. */
const freshKind = (name: string) => `test.${name}.${++counter}`;

async function jobByKey(key: string): Promise<JobRow> {
  const [row] = await db().select().from(jobs).where(eq(jobs.key, key));
  expect(row, `job ${key}`).toBeDefined();
  return row as JobRow;
}

/** A promise and the function that settles it, to hold a handler in the middle of its work. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('enqueueing', () => {
  it('a job enqueued in a transaction that rolls back never runs', async () => {
    const kind = freshKind('rollback');
    const runs: string[] = [];
    await expect(
      db().transaction(async (tx) => {
        await enqueueJob(tx, { kind, key: `${kind}:1`, payload: { n: 1 }, runAt: new Date() });
        throw new Error('the domain change failed');
      }),
    ).rejects.toThrow('the domain change failed');

    const summary = await runDueJobs(db(), { [kind]: async (job) => void runs.push(job.key) }, new Date());
    expect(summary.claimed).toBe(0);
    expect(runs).toEqual([]);
    expect(await db().select().from(jobs).where(eq(jobs.kind, kind))).toEqual([]);
  });

  it('a job enqueued in a committed transaction runs once, with its payload, and is then DONE', async () => {
    const kind = freshKind('commit');
    const now = new Date();
    const seen: unknown[] = [];
    await db().transaction(async (tx) => {
      expect(await enqueueJob(tx, { kind, key: `${kind}:1`, payload: { refund: 'r-1' }, runAt: now })).toBe(
        true,
      );
    });
    const handlers: JobHandlers = { [kind]: async (job) => void seen.push(job.payload) };

    expect(await runDueJobs(db(), handlers, now)).toMatchObject({ claimed: 1, done: 1 });
    expect(await runDueJobs(db(), handlers, seconds(now, 3600))).toMatchObject({ claimed: 0 });
    expect(seen).toEqual([{ refund: 'r-1' }]);
    const job = await jobByKey(`${kind}:1`);
    expect(job).toMatchObject({ status: 'DONE', attempts: 0, lockedUntil: null, leaseToken: null });
    expect(job.finishedAt).toEqual(now);
  });

  it('the same key twice, one after the other or at once, makes one job', async () => {
    const kind = freshKind('same-key');
    const now = new Date();
    const key = `${kind}:booking-42`;
    expect(await enqueueJob(db(), { kind, key, payload: { first: true }, runAt: now })).toBe(true);
    expect(await enqueueJob(db(), { kind, key, payload: { first: false }, runAt: now })).toBe(false);
    const racing = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        (i % 2 === 0 ? db() : other.db).transaction((tx) =>
          enqueueJob(tx, { kind, key: `${kind}:raced`, payload: { i }, runAt: now }),
        ),
      ),
    );
    expect(racing.filter(Boolean)).toHaveLength(1);

    const runs: string[] = [];
    await runDueJobs(db(), { [kind]: async (job) => void runs.push(job.key) }, now);
    expect(runs.sort()).toEqual([key, `${kind}:raced`].sort());
    expect((await jobByKey(key)).payload).toEqual({ first: true });
  });

  it('a job is not run before its runAt', async () => {
    const kind = freshKind('later');
    const now = new Date();
    await enqueueJob(db(), { kind, key: `${kind}:1`, runAt: seconds(now, 600) });
    const runs: string[] = [];
    const handlers: JobHandlers = { [kind]: async (job) => void runs.push(job.key) };
    expect((await runDueJobs(db(), handlers, seconds(now, 599))).claimed).toBe(0);
    expect((await runDueJobs(db(), handlers, seconds(now, 600))).done).toBe(1);
    expect(runs).toHaveLength(1);
  });

  it('a worker claims only the kinds it has a handler for', async () => {
    const known = freshKind('known');
    const unknown = freshKind('unknown');
    const now = new Date();
    await enqueueJob(db(), { kind: known, key: `${known}:1`, runAt: now });
    await enqueueJob(db(), { kind: unknown, key: `${unknown}:1`, runAt: now });
    expect(await runDueJobs(db(), { [known]: async () => {} }, now)).toMatchObject({ claimed: 1, done: 1 });
    expect(await jobByKey(`${unknown}:1`)).toMatchObject({
      status: 'PENDING',
      attempts: 0,
      lockedUntil: null,
    });
  });
});

describe('workers on several instances', () => {
  it('two workers racing over 50 jobs run each job exactly once', async () => {
    const kind = freshKind('race');
    const now = new Date();
    await db().transaction(async (tx) => {
      for (let i = 0; i < 50; i++)
        await enqueueJob(tx, { kind, key: `${kind}:${i}`, payload: { i }, runAt: now });
    });
    const runsByKey = new Map<string, string[]>();
    const worker = (name: string, database: TestApp['ctx']['db']) => async () => {
      let claimed = 0;
      const handlers: JobHandlers = {
        [kind]: async (job) => {
          runsByKey.set(job.key, [...(runsByKey.get(job.key) ?? []), name]);
          await sleep(5);
        },
      };
      for (;;) {
        const summary = await runDueJobs(database, handlers, now, { batch: 4 });
        if (summary.claimed === 0) return claimed;
        claimed += summary.claimed;
      }
    };

    const [claimedA, claimedB] = await Promise.all([worker('A', db())(), worker('B', other.db)()]);
    expect(claimedA + claimedB).toBe(50);
    // Both really took part: the race was real.
    expect(claimedA).toBeGreaterThan(0);
    expect(claimedB).toBeGreaterThan(0);
    expect(runsByKey.size).toBe(50);
    for (const [key, runs] of runsByKey) expect(runs, key).toHaveLength(1);
    const rows = await db().select().from(jobs).where(eq(jobs.kind, kind));
    expect(rows.every((r) => r.status === 'DONE')).toBe(true);
  });

  it('a job whose worker died mid-run is taken over by another worker once the lease runs out', async () => {
    const kind = freshKind('killed');
    const key = `${kind}:1`;
    const now = new Date();
    await enqueueJob(db(), { kind, key, runAt: now });

    // Instance A claims the job and dies in the middle of it: its connections are gone, its lease stays.
    const dying = await openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, poolMax: 2 });
    const started = gate();
    const stuck = gate();
    const runs: string[] = [];
    const runA = runDueJobs(
      dying.db,
      {
        [kind]: async () => {
          runs.push('A');
          started.open();
          await stuck.opened;
        },
      },
      now,
      { leaseSeconds: 60 },
    );
    await started.opened;
    await dying.close();
    expect(await jobByKey(key)).toMatchObject({ status: 'PENDING', attempts: 0 });

    const handlersB: JobHandlers = { [kind]: async () => void runs.push('B') };
    // While A's lease lasts, nobody else touches the job.
    expect((await runDueJobs(other.db, handlersB, seconds(now, 59))).claimed).toBe(0);
    expect(await runDueJobs(other.db, handlersB, seconds(now, 60))).toMatchObject({ claimed: 1, done: 1 });
    expect(runs).toEqual(['A', 'B']);
    expect(await jobByKey(key)).toMatchObject({ status: 'DONE', attempts: 0, lockedUntil: null });

    // The dead worker's run never records anything (here: it cannot even reach the database).
    stuck.open();
    await expect(runA).rejects.toThrow();
    expect(await jobByKey(key)).toMatchObject({ status: 'DONE', attempts: 0 });
  });

  it('a worker that outlived its lease cannot record an outcome over the worker that took over', async () => {
    const kind = freshKind('fenced');
    const key = `${kind}:1`;
    const now = new Date();
    await enqueueJob(db(), { kind, key, runAt: now });
    const slowStarted = gate();
    const slowStuck = gate();
    const slow = runDueJobs(
      db(),
      {
        [kind]: async () => {
          slowStarted.open();
          await slowStuck.opened;
          throw new Error('the slow run failed late');
        },
      },
      now,
      { leaseSeconds: 30 },
    );
    await slowStarted.opened;
    const nextStarted = gate();
    const nextStuck = gate();
    const next = runDueJobs(
      other.db,
      {
        [kind]: async () => {
          nextStarted.open();
          await nextStuck.opened;
        },
      },
      seconds(now, 31),
      { leaseSeconds: 30 },
    );
    await nextStarted.opened;

    // The first worker fails while the second holds the lease: its failure is not recorded.
    slowStuck.open();
    expect(await slow).toMatchObject<Partial<JobRunSummary>>({ claimed: 1, lost: 1, failed: 0 });
    const held = await jobByKey(key);
    expect(held).toMatchObject({ status: 'PENDING', attempts: 0, lastError: null });
    expect(held.lockedUntil).toEqual(seconds(now, 61));

    nextStuck.open();
    expect(await next).toMatchObject({ claimed: 1, done: 1 });
    expect(await jobByKey(key)).toMatchObject({ status: 'DONE', attempts: 0, lastError: null });
  });
});

describe('failures and polling', () => {
  it('a failing handler is retried with exponential backoff and ends DEAD after its last attempt', async () => {
    const kind = freshKind('failing');
    const key = `${kind}:1`;
    const now = new Date();
    await enqueueJob(db(), { kind, key, runAt: now, maxAttempts: 3 });
    const attempts: number[] = [];
    const errors: { willRetry: boolean; message: string }[] = [];
    const handlers: JobHandlers = {
      [kind]: async (_job, run) => {
        attempts.push(run.attempt);
        throw new Error(`gateway unreachable (try ${run.attempt})`);
      },
    };
    const options = {
      backoff: { baseSeconds: 10, maxSeconds: 3600 },
      onError: (_job: JobRow, err: unknown, willRetry: boolean) =>
        errors.push({ willRetry, message: (err as Error).message }),
    };

    expect(await runDueJobs(db(), handlers, now, options)).toMatchObject({ claimed: 1, failed: 1 });
    let job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'PENDING', attempts: 1, lastError: 'gateway unreachable (try 1)' });
    expect(job.runAt).toEqual(seconds(now, 10));
    expect(job.lockedUntil).toBeNull();

    // Not due again before the backoff has passed.
    expect((await runDueJobs(db(), handlers, seconds(now, 9), options)).claimed).toBe(0);
    expect(await runDueJobs(db(), handlers, seconds(now, 10), options)).toMatchObject({ failed: 1 });
    job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'PENDING', attempts: 2 });
    // The second retry waits twice as long.
    expect(job.runAt).toEqual(seconds(now, 10 + 20));

    expect(await runDueJobs(db(), handlers, seconds(now, 30), options)).toMatchObject({ dead: 1 });
    job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'DEAD', attempts: 3, lastError: 'gateway unreachable (try 3)' });
    expect(job.finishedAt).toEqual(seconds(now, 30));

    // A DEAD job stays for operators and never runs again.
    expect((await runDueJobs(db(), handlers, seconds(now, 86_400), options)).claimed).toBe(0);
    expect(attempts).toEqual([1, 2, 3]);
    expect(errors.map((e) => e.willRetry)).toEqual([true, true, false]);
  });

  it('a handler that fails once and then succeeds is DONE, its failure kept in the count', async () => {
    const kind = freshKind('flaky');
    const key = `${kind}:1`;
    const now = new Date();
    await enqueueJob(db(), { kind, key, runAt: now });
    let calls = 0;
    const handlers: JobHandlers = {
      [kind]: async () => {
        calls++;
        if (calls === 1) throw new Error('HTTP 500');
      },
    };
    await runDueJobs(db(), handlers, now, { backoff: { baseSeconds: 5, maxSeconds: 60 } });
    await runDueJobs(db(), handlers, seconds(now, 5), { backoff: { baseSeconds: 5, maxSeconds: 60 } });
    expect(calls).toBe(2);
    expect(await jobByKey(key)).toMatchObject({ status: 'DONE', attempts: 1, lastError: null });
  });

  it('"retry after" reschedules the job without counting a failure', async () => {
    const kind = freshKind('polling');
    const key = `${kind}:1`;
    const now = new Date();
    // One attempt only: a single failure would make it DEAD, so polling must not count as one.
    await enqueueJob(db(), { kind, key, runAt: now, maxAttempts: 1 });
    const polls: { attempt: number; at: Date }[] = [];
    const handlers: JobHandlers = {
      [kind]: async (_job, run) => {
        polls.push({ attempt: run.attempt, at: run.now });
        return polls.length < 3 ? retryAfter(30) : undefined;
      },
    };

    expect(await runDueJobs(db(), handlers, now)).toMatchObject({ rescheduled: 1 });
    let job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'PENDING', attempts: 0, lockedUntil: null });
    expect(job.runAt).toEqual(seconds(now, 30));
    expect((await runDueJobs(db(), handlers, seconds(now, 29))).claimed).toBe(0);
    expect(await runDueJobs(db(), handlers, seconds(now, 30))).toMatchObject({ rescheduled: 1 });
    expect(await runDueJobs(db(), handlers, seconds(now, 60))).toMatchObject({ done: 1 });

    job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'DONE', attempts: 0 });
    expect(polls.map((p) => p.attempt)).toEqual([1, 1, 1]);
    expect(polls.map((p) => p.at)).toEqual([now, seconds(now, 30), seconds(now, 60)]);
  });

  it('a handler still running when its lease runs out is told through its signal and retried', async () => {
    const kind = freshKind('overrun');
    const key = `${kind}:1`;
    const now = new Date();
    await enqueueJob(db(), { kind, key, runAt: now });
    let abortedWith: unknown;
    const handlers: JobHandlers = {
      [kind]: (_job, run) =>
        new Promise((resolve) => {
          run.signal.addEventListener('abort', () => {
            abortedWith = run.signal.reason;
            // A well-behaved handler stops here; what it resolves to no longer matters.
            resolve(undefined);
          });
        }),
    };
    const summary = await runDueJobs(db(), handlers, now, {
      leaseSeconds: 0.2,
      backoff: { baseSeconds: 10, maxSeconds: 60 },
    });
    expect(summary).toMatchObject({ claimed: 1, failed: 1 });
    expect(String(abortedWith)).toContain('lease');
    const job = await jobByKey(key);
    expect(job).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(job.lastError).toContain('lease');
    expect(job.runAt).toEqual(seconds(now, 10));
  });
});
