import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps, tstz } from './columns.js';

export const JOB_STATUSES = ['PENDING', 'DONE', 'DEAD'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The durable job queue: background work written in the same transaction as the change that needs it,
 * run after commit by whichever instance claims it first (src/lib/job-queue.ts).
 */
export const jobs = pgTable(
  'jobs',
  {
    id: id(),
    /** Which handler runs it, e.g. `refund.process`. */
    kind: text('kind').notNull(),
    /** Unique: a second job with the same key is never queued (e.g. one refund job per cancellation). */
    key: text('key').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<JobStatus>().notNull().default('PENDING'),
    /** Failed runs so far (a handler asking to be polled again later does not count). */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(10),
    runAt: tstz('run_at').notNull().default(sql`now()`),
    /** While in the future, a worker holds the job; once past, the job is taken over by another. */
    lockedUntil: tstz('locked_until'),
    /** Fencing token of the current claim: a worker whose lease was taken over cannot record an outcome. */
    leaseToken: uuid('lease_token'),
    lastError: text('last_error'),
    finishedAt: tstz('finished_at'),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('jobs_key').on(t.key),
    index('jobs_due_idx').on(t.runAt).where(sql`${t.status} = 'PENDING'`),
    check('jobs_status_check', sql`${t.status} in ('PENDING','DONE','DEAD')`),
    check('jobs_attempts_check', sql`${t.attempts} >= 0 and ${t.maxAttempts} > 0`),
  ],
);
