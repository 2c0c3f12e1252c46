import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { scheduleJob } from './lib/jobs.js';
import { deliverDueEmails } from './lib/mail/outbox.js';
import { expireStaleHolds } from './modules/bookings/hold-sweeper.js';
import { generateMissingInvoices } from './modules/payments/housekeeping.js';

/** Every background job of the app, in one place. Each runs on every instance; the work itself is claimed
 * with row locks, so instances never do the same piece twice. */
export function scheduleBackgroundJobs(app: FastifyInstance, ctx: AppContext) {
  const { db, mailer, clock, storage } = ctx;
  scheduleJob(app, 'email-outbox', 5_000, () =>
    deliverDueEmails(
      db,
      (row) => mailer.send(row),
      clock.now(),
      (row, err) =>
        app.log.warn(
          { err: err instanceof Error ? err.message : String(err), emailId: row.id, template: row.template },
          'email delivery failed, will retry',
        ),
    ),
  );
  scheduleJob(app, 'hold-sweeper', 30_000, () => expireStaleHolds(db, clock.now()));
  scheduleJob(app, 'invoice-catch-up', 30_000, () => generateMissingInvoices({ db, storage }, clock.now()));
}
