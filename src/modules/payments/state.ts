import { PAYMENT_STATUSES, type PaymentStatus } from '../../db/schema/index.js';

/**
 * Payment state machine. A payment only moves forward: PAID never becomes FAILED or CANCELLED. Money the
 * gateway has validated is always recorded, even on a payment that was already failed or cancelled (the
 * booking is then flagged for an operator), because losing a real payment is worse than a manual refund.
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
