import type { EmailMessage } from '../../lib/mail/outbox.js';
import { emailLayout, escapeHtml } from '../../lib/mail/templates.js';

const day = (d: Date) => d.toISOString().slice(0, 10);

function message(
  template: string,
  to: string,
  subject: string,
  name: string,
  lines: string[],
  dedupeKey: string,
  link?: { href: string; label: string },
): EmailMessage {
  const linkHtml = link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  return {
    template,
    to,
    subject,
    text: [`Dear ${name},`, '', ...lines, ...(link ? ['', `${link.label}: ${link.href}`] : [])].join('\n'),
    html: emailLayout(
      subject,
      `<p>Dear ${escapeHtml(name)},</p>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}${linkHtml}`,
      'You receive this email because you joined the waiting list of this departure.',
    ),
    dedupeKey,
  };
}

/** Seats came free for a waiting traveller: a booking holds them until `expiresAt`, paid through the link. */
export function waitlistOfferEmail(offer: {
  bookingId: string;
  name: string;
  email: string;
  tourTitle: string;
  startDate: Date;
  guestCount: number;
  amount: string;
  expiresAt: Date;
  paymentUrl: string;
}): EmailMessage {
  return message(
    'waitlist-offer',
    offer.email,
    'Seats are free for you',
    offer.name,
    [
      `Seats came free on "${offer.tourTitle}" starting ${day(offer.startDate)}, and we are holding ` +
        `${offer.guestCount} for you (${offer.amount}).`,
      `Pay by ${offer.expiresAt.toISOString()} to confirm them; after that they go to the next traveller waiting.`,
      `Booking: ${offer.bookingId}`,
    ],
    `waitlist-offer:${offer.bookingId}`,
    { href: offer.paymentUrl, label: 'Pay now' },
  );
}

/** The departure a traveller waited for was cancelled. */
export function waitlistClosedEmail(entry: {
  entryId: string;
  name: string;
  email: string;
  departure: { tourTitle: string; startDate: Date };
  reason: string;
}): EmailMessage {
  return message(
    'waitlist-closed',
    entry.email,
    'The departure you were waiting for is cancelled',
    entry.name,
    [
      `"${entry.departure.tourTitle}" starting ${day(entry.departure.startDate)} will not run: ${entry.reason}.`,
      'Your place on its waiting list has ended; nothing was charged. You are welcome to book another date.',
    ],
    `waitlist-closed:${entry.entryId}`,
  );
}
