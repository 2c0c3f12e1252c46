import { and, eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { jobs } from '../db/schema/index.js';
import { newId } from './ids.js';

/**
 * A durable job queue on the app's own database (PostgreSQL or PGlite), in the style of the mail outbox:
 * a job is written in the caller's transaction, so it exists exactly when the change that needs it
 * committed, and it runs after commit on whichever instance claims it first.
 */

export type JobRow<P = Record<string, unknown>> = Omit<typeof jobs.$inferSelect, 'payload'> & { payload: P };

export interface NewJob {
  /** Which handler runs it, e.g. `refund.process`. */
  kind: string;
  /** Unique across all jobs, done or not: a second enqueue with the same key is a no-op. */
  key: string;
  payload?: Record<string, unknown>;
  /**
   * Not before this instant. Defaults to the database's `now()`; code that has a clock should pass
   * `clock.now()` so that the job is due by the same time source that the worker compares with.
   */
  runAt?: Date;
  /** Failed runs after which the job is DEAD (default 10). */
  maxAttempts?: number;
}

/** Queues a job in the caller's transaction. Resolves to false when a job with this key already exists. */
export async function enqueueJob(db: Executor, job: NewJob): Promise<boolean> {
  const inserted = await db
    .insert(jobs)
    .values({
      kind: job.kind,
      key: job.key,
      payload: job.payload ?? {},
      ...(job.runAt ? { runAt: job.runAt } : {}),
      ...(job.maxAttempts ? { maxAttempts: job.maxAttempts } : {}),
    })
    .onConflictDoNothing({ target: jobs.key })
    .returning({ id: jobs.id });
  return inserted.length > 0;
}

/** What a handler hands back: nothing (done), or "not finished yet, look again in N seconds". */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that just finishes returns nothing.
export type JobOutcome = void | { retryAfterSeconds: number };

/** "Not finished yet": the job runs again after `seconds`, and this run does not count as a failure. */
export const retryAfter = (seconds: number): JobOutcome => ({ retryAfterSeconds: seconds });

export interface JobContext {
  /** The worker's `now` for this run. */
  now: Date;
  /** 1 for the first run, 2 after one failure, ... (polls requested with `retryAfter` do not count). */
  attempt: number;
  /** The instant the lease runs out; after it another worker may start the same job. */
  leaseExpiresAt: Date;
  /** Aborted when the lease runs out: pass it to network calls so a run past its lease stops early. */
  signal: AbortSignal;
}

/**
 * Runs one job. Resolving (with nothing) marks it DONE; throwing retries it with backoff, up to its
 * `maxAttempts`, then marks it DEAD; resolving `retryAfter(seconds)` runs it again later without counting
 * a failure (e.g. to poll an outside service until it reports an end state).
 *
 * A handler must be idempotent on its own: it can run more than once for one job. A worker can die after
 * the handler's side effect and before recording DONE, and a lease can run out while a slow handler is
 * still working, at which point another worker starts the same job. Key every outside effect on something
 * stable from the job (its key or payload, e.g. a refund reference the gateway recognises) and check the
 * domain state first (e.g. "this refund already has a gateway refund id: query it, do not initiate again").
 */
export type JobHandler<P = Record<string, unknown>> = (
  job: JobRow<P>,
  context: JobContext,
) => Promise<JobOutcome>;

/** Handlers by job kind. A worker only claims the kinds it has a handler for. */
// biome-ignore lint/suspicious/noExplicitAny: each handler declares the payload of its own kind.
export type JobHandlers = Record<string, JobHandler<any>>;

export interface JobWorkerOptions {
  /** Jobs claimed (and run concurrently) per call. */
  batch?: number;
  /** How long a claim lasts; a handler still running after it is abandoned and the job retried. */
  leaseSeconds?: number;
  /** Delay before the n-th retry: `baseSeconds * 2^(n-1)`, capped at `maxSeconds`. */
  backoff?: { baseSeconds: number; maxSeconds: number };
  /** Told about every failed run (the job is retried or, on its last attempt, DEAD). */
  onError?: (job: JobRow, err: unknown, willRetry: boolean) => void;
}

export interface JobRunSummary {
  claimed: number;
  done: number;
  /** Asked to run again later (`retryAfter`). */
  rescheduled: number;
  /** Failed and will be retried. */
  failed: number;
  dead: number;
  /** Finished after their lease was taken over by another worker: outcome not recorded. */
  lost: number;
}

const DEFAULTS = { batch: 10, leaseSeconds: 60, backoff: { baseSeconds: 15, maxSeconds: 3600 } };

const jobRetryDelaySeconds = (failures: number, backoff = DEFAULTS.backoff) =>
  Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.max(0, failures - 1));

/**
 * Claims due jobs of the kinds in `handlers` and runs them concurrently, each under a lease. Safe with any
 * number of workers on any number of instances: a job is claimed by one statement (FOR UPDATE SKIP LOCKED),
 * is not claimed again while its lease lasts, and only the holder of the current lease can record its
 * outcome. A job whose worker died is taken over once its lease runs out.
 */
export async function runDueJobs(
  db: Database,
  handlers: JobHandlers,
  now: Date,
  options: JobWorkerOptions = {},
): Promise<JobRunSummary> {
  const summary: JobRunSummary = { claimed: 0, done: 0, rescheduled: 0, failed: 0, dead: 0, lost: 0 };
  const kinds = Object.keys(handlers);
  if (kinds.length === 0) return summary;
  const batch = options.batch ?? DEFAULTS.batch;
  const leaseSeconds = options.leaseSeconds ?? DEFAULTS.leaseSeconds;
  const backoff = options.backoff ?? DEFAULTS.backoff;

  const leaseExpiresAt = new Date(now.getTime() + leaseSeconds * 1000);
  const leaseToken = newId();
  const claimed = (await db
    .update(jobs)
    .set({ lockedUntil: leaseExpiresAt, leaseToken })
    .where(
      sql`${jobs.id} in (select id from jobs where status = 'PENDING' and run_at <= ${now}
        and (locked_until is null or locked_until <= ${now}) and kind in ${kinds}
        order by run_at, id limit ${batch} for update skip locked)`,
    )
    .returning()) as JobRow[];
  summary.claimed = claimed.length;

  // Only the current lease holder may write the outcome: a worker that outlived its lease changes nothing.
  const record = async (job: JobRow, values: Partial<typeof jobs.$inferInsert>) => {
    const updated = await db
      .update(jobs)
      .set({ ...values, lockedUntil: null, leaseToken: null })
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseToken, leaseToken), eq(jobs.status, 'PENDING')))
      .returning({ id: jobs.id });
    return updated.length > 0;
  };

  const runs = await Promise.allSettled(
    claimed.map(async (job) => {
      let outcome: JobOutcome;
      try {
        outcome = await runWithinLease(handlers[job.kind]!, job, {
          now,
          attempt: job.attempts + 1,
          leaseExpiresAt,
          leaseSeconds,
        });
      } catch (err) {
        const attempts = job.attempts + 1;
        const dead = attempts >= job.maxAttempts;
        options.onError?.(job, err, !dead);
        const recorded = await record(job, {
          attempts,
          status: dead ? 'DEAD' : 'PENDING',
          lastError: describeError(err),
          runAt: dead ? job.runAt : new Date(now.getTime() + jobRetryDelaySeconds(attempts, backoff) * 1000),
          finishedAt: dead ? now : null,
        });
        if (!recorded) summary.lost++;
        else if (dead) summary.dead++;
        else summary.failed++;
        return;
      }
      if (outcome && Number.isFinite(outcome.retryAfterSeconds)) {
        const delayMs = Math.max(0, outcome.retryAfterSeconds) * 1000;
        const recorded = await record(job, { runAt: new Date(now.getTime() + delayMs) });
        if (recorded) summary.rescheduled++;
        else summary.lost++;
        return;
      }
      const recorded = await record(job, { status: 'DONE', finishedAt: now, lastError: null });
      if (recorded) summary.done++;
      else summary.lost++;
    }),
  );
  // A run whose outcome could not be written (database gone) stays claimed until its lease runs out.
  const unrecorded = runs.find((r) => r.status === 'rejected');
  if (unrecorded) throw unrecorded.reason;
  return summary;
}

/** Runs the handler, giving up (as a failure) when the lease runs out; the signal tells the handler so. */
async function runWithinLease(
  handler: JobHandler,
  job: JobRow,
  run: { now: Date; attempt: number; leaseExpiresAt: Date; leaseSeconds: number },
): Promise<JobOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const leaseOver = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`job ran past its ${run.leaseSeconds} s lease`);
      // Rejected first, so that whatever the handler does once aborted cannot count as its outcome.
      reject(err);
      controller.abort(err);
    }, run.leaseSeconds * 1000);
    timer.unref();
  });
  try {
    return await Promise.race([
      handler(job, {
        now: run.now,
        attempt: run.attempt,
        leaseExpiresAt: run.leaseExpiresAt,
        signal: controller.signal,
      }),
      leaseOver,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.slice(0, 500) || 'job failed';
}
