import type { EmailMessage } from '../../lib/mail/outbox.js';
import { emailLayout, escapeHtml } from '../../lib/mail/templates.js';
import type { BookingDetailRow } from './repo.js';

/** An unpaid booking someone other than its owner cancelled (an admin, or a cancelled departure). */
export function bookingCancelledEmail(b: BookingDetailRow, reason: string): EmailMessage {
  const lines = [
    `Your booking for "${b.tourTitle}" (${b.guestCount} guest${b.guestCount === 1 ? '' : 's'}) has been cancelled: ${reason}.`,
    'It had not been paid, so nothing was charged. You are welcome to book again.',
  ];
  return {
    template: 'booking-cancelled',
    to: b.userEmail,
    subject: 'Your booking is cancelled',
    text: [`Dear ${b.userName},`, '', ...lines, '', `Booking: ${b.id}`].join('\n'),
    html: emailLayout(
      'Your booking is cancelled',
      `<p>Dear ${escapeHtml(b.userName)},</p>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}` +
        `<p>Booking: ${escapeHtml(b.id)}</p>`,
      'You receive this email because you made this booking.',
    ),
    dedupeKey: `booking-cancelled:${b.id}`,
  };
}
