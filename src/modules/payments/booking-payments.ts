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
import { newTransactionId, openPaymentSession } from './session.js';
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

    openSession: (subject) => openPaymentSession(db, gateway, deps.gatewayTimeoutMs, subject),

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

    refundable: (tx, bookingId) => deps.refunds.refundable(tx, bookingId),

    refundsOf: (executor, bookingIds) => deps.refunds.refundsOf(executor, bookingIds),
  };
}
