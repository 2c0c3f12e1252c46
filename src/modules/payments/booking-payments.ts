import { randomBytes } from 'node:crypto';
import type { Database, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { Storage } from '../../lib/storage/storage.js';
import type { BookingPayments } from '../bookings/payment-port.js';
import type { EndedUnpaid } from '../bookings/state.js';
import type { PaymentGateway } from './gateway.js';
import { ensureInvoice, queueInvoiceEmail } from './invoice.js';
import type { InvoiceLinks } from './invoice-links.js';
import type { RefundService } from './refunds.js';
import * as repo from './repo.js';
import { openPaymentSession } from './session.js';
import { ENDED_WITH_BOOKING, UNPAID } from './state.js';

export interface BookingPaymentsDeps {
  db: Database;
  clock: Clock;
  gateway: PaymentGateway;
  storage: Storage;
  invoiceLinks: InvoiceLinks;
  gatewayTimeoutMs: number;
  refunds: RefundService;
  /** Told about work that failed after the booking change itself was recorded (a job retries it). */
  onBackgroundError?: (err: unknown, what: string) => void;
}

/** Unguessable: 128 random bits (the legacy `tran_<ms>_<0-999>` could be guessed and confirmed for free). */
export const newTransactionId = () => `tran_${randomBytes(16).toString('hex')}`;

/** Ends the unpaid payments of bookings that ended unpaid; needs nothing but the transaction. */
export const closeUnpaidPayments = (tx: Executor, bookingIds: string[], ended: EndedUnpaid) =>
  repo.movePaymentsOfBookings(tx, bookingIds, ENDED_WITH_BOOKING[ended]);

/** The payments module as the bookings module needs it (see BookingPayments). */
export function createBookingPayments(deps: BookingPaymentsDeps): BookingPayments {
  const { db, clock, gateway, storage, invoiceLinks } = deps;
  return {
    async createFor(tx, booking) {
      const payment = await repo.insertPayment(tx, {
        bookingId: booking.id,
        transactionId: newTransactionId(),
        status: UNPAID,
        amountMinor: booking.amountMinor,
        currency: booking.currency,
        gateway: gateway.name,
      });
      return {
        id: payment.id,
        transactionId: payment.transactionId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
      };
    },

    openSession: (subject) => openPaymentSession(gateway, deps.gatewayTimeoutMs, subject),

    closeUnpaid: closeUnpaidPayments,

    async queueInvoice(tx, paymentId) {
      const payment = await repo.findPaymentContext(tx, { paymentId });
      if (payment) await queueInvoiceEmail(tx, payment, clock.now());
    },

    async issueInvoice(paymentId) {
      await ensureInvoice(db, storage, paymentId, clock.now()).catch((err) =>
        deps.onBackgroundError?.(err, 'invoice generation'),
      );
    },

    invoiceUrl: ({ paymentId, invoiceKey }) =>
      paymentId && invoiceKey ? invoiceLinks.url(paymentId, clock.now()) : null,

    refundCancelled: (tx, refund) => deps.refunds.refundCancelled(tx, refund),

    announceRefund: (refund) => deps.refunds.announce(refund),

    refundsOf: (executor, bookingIds) => deps.refunds.refundsOf(executor, bookingIds),
  };
}
