import type { Executor } from '../../db/client.js';
import type { RefundStatus } from '../../db/schema/index.js';
import type { EndedUnpaid } from './state.js';

/** A booking's payment as bookings sees it: what to show the customer and to send to the gateway. */
export interface BookingPayment {
  id: string;
  transactionId: string;
  amountMinor: number;
  currency: string;
}

/** Who pays and for what, as the payment gateway's session needs it. */
export interface PaymentSessionSubject {
  payment: BookingPayment;
  customer: { name: string; email: string; phone: string | null; address: string | null };
  tourTitle: string;
}

/** A refund as the API shows it (money in major units, ISO dates). */
export interface RefundView {
  _id: string;
  booking: string;
  payment: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  /** The user who asked for it; null when the system did (a payment no booking could take). */
  requestedBy: string | null;
  gatewayRefundId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Money going back for a booking that was just cancelled, as the cancellation decided it. */
export interface CancellationRefund {
  bookingId: string;
  /** In minor units; 0 when nothing is due (the customer is still mailed, and no refund is written). */
  amountMinor: number;
  reason: string;
  /** The user who cancelled; null for the system. */
  requestedBy: string | null;
}

/**
 * What bookings needs from payments. Bookings declares it and the payments module implements it, so
 * bookings never depends on payments; payments drives bookings through `lifecycle.ts`. The functions
 * taking `tx` run in the caller's transaction, which holds the booking's row lock.
 */
export interface BookingPayments {
  /** Creates the unpaid payment of a booking just made. */
  createFor(
    tx: Executor,
    booking: { id: string; amountMinor: number; currency: string },
  ): Promise<BookingPayment>;
  /** Opens a gateway session for it, outside any transaction; rejects when the gateway fails or times out. */
  openSession(subject: PaymentSessionSubject): Promise<{ paymentUrl: string }>;
  /** Ends the unpaid payments of bookings that just ended as `ended`; payments already made are left alone. */
  closeUnpaid(tx: Executor, bookingIds: string[], ended: EndedUnpaid): Promise<void>;
  /** Queues the invoice email of a paid booking an admin just approved. */
  queueInvoice(tx: Executor, paymentId: string): Promise<void>;
  /** Once that transaction committed: stores the invoice and lets its email go (a job retries on failure). */
  issueInvoice(paymentId: string): Promise<void>;
  /** For admin views: a short-lived download link once the invoice exists, else null. */
  invoiceUrl(payment: { paymentId: string | null; invoiceKey: string | null }): string | null;
  /**
   * The paid booking was just cancelled: writes the refund of `amountMinor` and the job that carries it out
   * after commit, and queues the customer's mail (a refund issued, or why none is due). Null when nothing
   * is refunded. Call `announceRefund` once the transaction has committed.
   */
  refundCancelled(tx: Executor, refund: CancellationRefund): Promise<RefundView | null>;
  /** Logs a refund issued by a transaction that has now committed. */
  announceRefund(refund: RefundView): void;
  /** What is left to refund of the booking's payment (minor units): paid less its refunds done or in flight. */
  refundable(tx: Executor, bookingId: string): Promise<number>;
  /** The refunds of these bookings, oldest first, by booking id. */
  refundsOf(db: Executor, bookingIds: string[]): Promise<Map<string, RefundView[]>>;
}
