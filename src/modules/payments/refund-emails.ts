import { formatMoney } from './invoice.js';
import { paymentMail } from './payment-emails.js';
import type { RefundRow } from './refund-repo.js';
import type { PaymentContext } from './repo.js';

/**
 * Mails along a refund's way: issued (with the cancellation), completed, failed (with what happens next).
 * Each at most once per refund, and a failure once per try.
 */

type Refund = Pick<RefundRow, 'id' | 'amountMinor' | 'currency' | 'reason' | 'attempts'>;

const refundFacts = (refund: Refund) => [
  `Refund: ${formatMoney(refund.amountMinor, refund.currency)}`,
  `Refund reference: ${refund.id}`,
];

/** The booking was cancelled and part or all of the payment is going back. */
export const refundIssuedEmail = (p: PaymentContext, refund: Refund, cancelled: boolean) =>
  paymentMail(p, {
    template: 'refund-issued',
    subject: cancelled
      ? 'Your booking is cancelled: refund issued'
      : 'Payment received, booking not confirmed: refund issued',
    lines: [
      cancelled
        ? `Your booking for {tour} has been cancelled (${refund.reason}).`
        : 'We have received your payment for {tour}, but the booking could not be confirmed: it was no ' +
          'longer active when the payment arrived and its seats have since been taken.',
      `We have issued a refund of ${formatMoney(refund.amountMinor, refund.currency)} to the card or account ` +
        'you paid with. We will email you again when the payment gateway confirms the money is on its way back; ' +
        'your bank may take a few more working days to show it.',
    ],
    facts: refundFacts(refund),
    dedupeKey: `refund-issued:${refund.id}`,
  });

/** A second payment arrived for a booking that was already paid: it is going back whole. */
export const duplicatePaymentRefundEmail = (p: PaymentContext, refund: Refund) =>
  paymentMail(p, {
    template: 'duplicate-payment-refund',
    subject: 'You paid twice: the second payment is being refunded',
    lines: [
      'We received a second payment for your booking of {tour}, which was already paid. Your booking is ' +
        'unchanged: nothing more is needed from you.',
      `We have issued a refund of the second payment, ${formatMoney(refund.amountMinor, refund.currency)}, in ` +
        'full to the card or account you paid it with. We will email you again when the payment gateway ' +
        'confirms the money is on its way back.',
    ],
    facts: refundFacts(refund),
    dedupeKey: `duplicate-payment-refund:${refund.id}`,
  });

/** The booking was cancelled and its cancellation policy refunds nothing at this point. */
export const cancelledWithoutRefundEmail = (p: PaymentContext, reason: string) =>
  paymentMail(p, {
    template: 'booking-cancelled-no-refund',
    subject: 'Your booking is cancelled',
    lines: [
      `Your booking for {tour} has been cancelled (${reason}).`,
      "Under the tour's cancellation policy, no refund is due for a cancellation this close to the start.",
    ],
    dedupeKey: `booking-cancelled-no-refund:${p.paymentId}`,
  });

export const refundCompletedEmail = (p: PaymentContext, refund: Refund) =>
  paymentMail(p, {
    template: 'refund-completed',
    subject: 'Your refund is complete',
    lines: [
      `The refund of ${formatMoney(refund.amountMinor, refund.currency)} for your booking of {tour} is ` +
        'complete: the payment gateway has sent the money back. Depending on your bank it may take a few ' +
        'working days to appear on your statement.',
    ],
    facts: refundFacts(refund),
    dedupeKey: `refund-completed:${refund.id}`,
  });

export const refundFailedEmail = (p: PaymentContext, refund: Refund) =>
  paymentMail(p, {
    template: 'refund-failed',
    subject: 'Your refund is delayed',
    lines: [
      `The refund of ${formatMoney(refund.amountMinor, refund.currency)} for your booking of {tour} did not ` +
        'go through at the payment gateway.',
      'Nothing is needed from you: our team has been told and will try the refund again, and we will email ' +
        'you when it is complete. If you would like to be refunded another way, reply to this email.',
    ],
    facts: refundFacts(refund),
    dedupeKey: `refund-failed:${refund.id}:${refund.attempts}`,
  });
