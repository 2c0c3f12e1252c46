import type { EmailMessage } from '../../lib/mail/outbox.js';
import { formatMoney } from './invoice.js';
import type { PaymentContext } from './repo.js';

/**
 * Mails for a payment that was received but did not confirm its booking. None may say "confirmed": the
 * invoice email says that, and only for a COMPLETE booking.
 */

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A mail about a payment: greeting, `lines` ({tour} names the tour), then the payment's facts and any
 * `facts` of the mail's own. One per template and payment unless `dedupeKey` says otherwise.
 */
export function paymentMail(
  p: PaymentContext,
  mail: { template: string; subject: string; lines: string[]; facts?: string[]; dedupeKey?: string },
): EmailMessage {
  const facts = [
    `Transaction ID: ${p.transactionId}`,
    `Guests: ${p.guestCount}`,
    `Amount received: ${formatMoney(p.amountMinor, p.currency)}`,
    ...(mail.facts ?? []),
  ];
  const tour = `"${p.tourTitle}"`;
  const fill = (line: string) => line.replace('{tour}', tour);
  const fillHtml = (line: string) =>
    escapeHtml(line).replace(escapeHtml('{tour}'), `<strong>${escapeHtml(p.tourTitle)}</strong>`);
  return {
    template: mail.template,
    to: p.userEmail,
    subject: mail.subject,
    text: [`Dear ${p.userName},`, '', ...mail.lines.map(fill), '', ...facts].join('\n'),
    html:
      `<p>Dear ${escapeHtml(p.userName)},</p>${mail.lines.map((l) => `<p>${fillHtml(l)}</p>`).join('')}` +
      `<ul>${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`,
    dedupeKey: mail.dedupeKey ?? `${mail.template}:${p.paymentId}`,
  };
}

/** The gateway flagged the payment as risky: the seats are kept while an admin reviews it. */
export const paymentUnderReviewEmail = (p: PaymentContext) =>
  paymentMail(p, {
    template: 'payment-under-review',
    subject: 'Your payment is under review',
    lines: [
      'We have received your payment for {tour}. The payment gateway asked us to check it before we ' +
        'finalise your booking, so it is now under review and your seats are kept for you.',
      'We will email you again when the review is done, with your invoice if all is well.',
    ],
  });
