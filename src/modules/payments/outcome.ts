import type { BookingStatus, PaymentStatus } from '../../db/schema/index.js';
import { CONFIRMED, PENDING } from '../bookings/state.js';
import { formatMoney } from './invoice.js';
import type { RefundRow } from './refund-repo.js';

/**
 * What the payer is told after the gateway, on the front end's page (the redirect's message) or on this
 * server's own result page: always built from what happened to this payment as recorded (its booking, its
 * refunds, a duplicate's refund), never from the request or from the booking's state alone.
 */

/** Where a payer's browser is sent back to after the gateway. */
export type RedirectKind = 'success' | 'fail' | 'cancel';

export interface Outcome {
  /** Which front-end page the browser goes to. */
  kind: RedirectKind;
  /** The redirect's `status`: success, pending, fail, cancel, or duplicate (a second payment refunded). */
  status: string;
  /** One sentence for the customer. */
  message: string;
  /** The result page's headline and its colour. */
  headline: string;
  tone: 'ok' | 'bad' | 'wait';
}

/** The refund of a payment that arrived for a booking no longer waiting for it, whose seats are gone. */
export const LATE_PAYMENT_REASON = 'late payment: the booking was no longer held and its seats were gone';

export const UNDER_REVIEW_MESSAGE =
  'Payment received and under review; your seats are kept and we will email you when the review is done';

type Refund = Pick<RefundRow, 'amountMinor' | 'currency' | 'status' | 'reason'>;

/** How a set of refunds stands, in words that finish "… of the payment": by the least advanced of them. */
function refundPhrase(refunds: Refund[]): string {
  const live = refunds.filter((r) => r.status !== 'FAILED');
  const counted = live.length > 0 ? live : refunds;
  const amount = formatMoney(
    counted.reduce((sum, r) => sum + r.amountMinor, 0),
    counted[0]!.currency,
  );
  if (live.length === 0)
    return `the refund of ${amount} is delayed: our team has been told and will try it again`;
  if (live.every((r) => r.status === 'REFUNDED')) return `${amount} has been refunded`;
  return `${amount} is being refunded automatically`;
}

/** A second validated payment for a booking already paid: what its refund has done so far. */
export function duplicateOutcome(refund: Refund): Outcome {
  return {
    kind: 'success',
    status: 'duplicate',
    message:
      'This booking was already paid, so this second payment was not needed and is not kept: ' +
      `${refundPhrase([refund])}`,
    headline: refund.status === 'REFUNDED' ? 'Second payment refunded' : 'Second payment being refunded',
    tone: 'wait',
  };
}

/**
 * A payment received (validated by the gateway): where its booking stands and what its own refunds did.
 * `completedMessage` is what a confirmed booking's payer is told ("Payment Completed Successfully", or that it
 * already was).
 */
export function receivedOutcome(
  facts: { bookingStatus: BookingStatus; refunds: Refund[] },
  completedMessage = 'Payment Completed Successfully',
): Outcome {
  if (facts.bookingStatus === CONFIRMED) {
    return {
      kind: 'success',
      status: 'success',
      message: completedMessage,
      headline: 'Payment complete',
      tone: 'ok',
    };
  }
  if (facts.bookingStatus === PENDING) {
    return {
      kind: 'success',
      status: 'pending',
      message: UNDER_REVIEW_MESSAGE,
      headline: 'Payment under review',
      tone: 'wait',
    };
  }
  const late = facts.refunds.filter((r) => r.reason === LATE_PAYMENT_REASON);
  const message =
    late.length > 0
      ? 'Payment was received but the booking could not be confirmed: it was no longer held and its seats ' +
        `are gone, so ${refundPhrase(late)}`
      : facts.refunds.length > 0
        ? `Payment was received; the booking has since been cancelled and ${refundPhrase(facts.refunds)}`
        : 'Payment was received; the booking has since been cancelled and no refund was due under its ' +
          'cancellation policy';
  return {
    kind: 'fail',
    status: 'fail',
    message,
    headline: late.length > 0 ? 'Booking not confirmed' : 'Booking cancelled',
    tone: 'bad',
  };
}

/**
 * The browser came back through the success URL but the gateway has not confirmed the payment (yet): the
 * success page, saying nothing is confirmed.
 */
export const AWAITING_CONFIRMATION: Outcome = {
  kind: 'success',
  status: 'pending',
  message: 'Payment is being verified; the booking is confirmed once the payment gateway confirms it',
  headline: 'Payment being verified',
  tone: 'wait',
};

/**
 * A payment not received (yet): the browser came back through `kind`. A failed or cancelled attempt leaves a
 * pending booking holding its seats, so the payer may try again until the hold runs out.
 */
export function unpaidOutcome(
  kind: RedirectKind,
  facts: { paymentStatus: PaymentStatus; bookingStatus: BookingStatus; holdExpiresAt: Date; now: Date },
): Outcome {
  if (kind === 'success' && facts.paymentStatus === 'UNPAID') return AWAITING_CONFIRMATION;
  const cancelled = kind === 'cancel' || facts.paymentStatus === 'CANCELLED';
  const what = cancelled ? 'Payment Cancelled' : 'Payment Failed';
  const retry =
    facts.paymentStatus === 'UNPAID' && facts.bookingStatus === PENDING && facts.holdExpiresAt > facts.now;
  return {
    kind: kind === 'success' ? 'fail' : kind,
    status: kind === 'success' ? 'fail' : kind,
    message: retry
      ? `${what}: no money was taken. Your seats stay held until ${facts.holdExpiresAt.toISOString()}, so you ` +
        'can still pay for this booking until then'
      : `${what}: no money was taken for this booking`,
    headline: cancelled ? 'Payment cancelled' : 'Payment failed',
    tone: 'bad',
  };
}
