import {
  PAYMENT_STATUSES,
  type PaymentStatus,
  REFUND_STATUSES,
  type RefundStatus,
} from '../../db/schema/index.js';
import type { EndedUnpaid } from '../bookings/state.js';

/**
 * Payment state machine. A payment only moves forward: PAID never becomes FAILED or CANCELLED. Money the
 * gateway has validated is always recorded, even on a payment that was already failed or cancelled (the
 * booking takes its seats back, or the payment is refunded), because a real payment must never be lost.
 */
const NEXT: Record<PaymentStatus, readonly PaymentStatus[]> = {
  UNPAID: ['PAID', 'FAILED', 'CANCELLED'],
  FAILED: ['PAID'],
  CANCELLED: ['PAID'],
  PAID: ['REFUNDED'],
  REFUNDED: [],
};

export const canMovePayment = (from: PaymentStatus, to: PaymentStatus): boolean => NEXT[from].includes(to);

/** Every status from which a payment may move to `to`. */
export const paymentStatusesBefore = (to: PaymentStatus): PaymentStatus[] =>
  PAYMENT_STATUSES.filter((from) => canMovePayment(from, to));

/** A new payment waits for the payer. */
export const UNPAID = 'UNPAID' satisfies PaymentStatus;

/** Validated by the gateway: the money was received. */
export const PAID = 'PAID' satisfies PaymentStatus;

/** The money was received at some point (and may have been given back since): an invoice exists for it. */
export const wasReceived = (status: PaymentStatus): boolean => status === PAID || status === 'REFUNDED';

/** The status an unpaid payment ends in when its booking ends unpaid (failed, expired or cancelled). */
export const ENDED_WITH_BOOKING = { FAILED: 'FAILED', CANCEL: 'CANCELLED' } as const satisfies Record<
  EndedUnpaid,
  PaymentStatus
>;

/**
 * Refund state machine: REQUESTED (written with the cancellation) → PROCESSING (the worker has taken it to
 * the gateway) → REFUNDED or FAILED; an operator's retry takes a FAILED refund back to REQUESTED.
 */
const REFUND_NEXT: Record<RefundStatus, readonly RefundStatus[]> = {
  REQUESTED: ['PROCESSING'],
  PROCESSING: ['REFUNDED', 'FAILED'],
  REFUNDED: [],
  FAILED: ['REQUESTED'],
};

export const canMoveRefund = (from: RefundStatus, to: RefundStatus): boolean =>
  REFUND_NEXT[from].includes(to);

/** Every status from which a refund may move to `to`. */
export const refundStatusesBefore = (to: RefundStatus): RefundStatus[] =>
  REFUND_STATUSES.filter((from) => canMoveRefund(from, to));
