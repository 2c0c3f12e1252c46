import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { type JobHandlers, runDueJobs } from './lib/job-queue.js';
import { scheduleJob } from './lib/jobs.js';
import { sendDueEmails } from './lib/mail/outbox.js';
import { generateMissingInvoices } from './modules/payments/housekeeping.js';
import { foldSummaries } from './modules/stats/repo.js';

/** Every background job of the app, in one place. Each runs on every instance; the work itself is claimed
 * with row locks, so instances never do the same piece twice. */
export function scheduleBackgroundJobs(
  app: FastifyInstance,
  ctx: AppContext,
  jobHandlers: JobHandlers,
  expireHolds: (now: Date) => Promise<number>,
) {
  const { db, mailer, clock, storage } = ctx;
  // The durable job queue (refunds and the like): handlers come from the composition root, by job kind.
  scheduleJob(app, 'job-queue', 2_000, () =>
    runDueJobs(db, jobHandlers, clock.now(), {
      onError: (job, err, willRetry) =>
        app.log.warn(
          { err: err instanceof Error ? err.message : String(err), jobId: job.id, kind: job.kind, willRetry },
          willRetry ? 'background job failed, will retry' : 'background job failed for the last time',
        ),
    }),
  );
  scheduleJob(app, 'email-outbox', 5_000, () => sendDueEmails(db, mailer, ctx.events, clock.now()));
  scheduleJob(app, 'hold-sweeper', 30_000, () => expireHolds(clock.now()));
  // Keeps what the statistics sum small; the figures are exact whether or not it has run.
  scheduleJob(app, 'stats-fold', 5_000, () => foldSummaries(db));
  scheduleJob(app, 'invoice-catch-up', 30_000, () => generateMissingInvoices({ db, storage }, clock.now()));
}
