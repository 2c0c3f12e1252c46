import type { AppContext } from '../../app.js';
import { expireStaleHolds } from '../bookings/hold-sweeper.js';
import { closeUnpaidPayments } from './booking-payments.js';
import { ensureInvoice } from './invoice.js';
import { paidWithoutInvoice } from './repo.js';

/** Invoices still missing for paid payments get generated (their queued emails are then released). */
export async function generateMissingInvoices(
  ctx: Pick<AppContext, 'db' | 'storage'>,
  now: Date,
  batch = 20,
) {
  const ids = await paidWithoutInvoice(ctx.db, batch);
  for (const id of ids) await ensureInvoice(ctx.db, ctx.storage, id, now);
  return ids.length;
}

/** The periodic job: expire stale seat holds, then catch up on invoices. */
export async function runPaymentHousekeeping(ctx: Pick<AppContext, 'db' | 'storage'>, now: Date) {
  const expired = await expireStaleHolds(ctx.db, { closeUnpaid: closeUnpaidPayments }, now);
  const invoices = await generateMissingInvoices(ctx, now);
  return { expired, invoices };
}
