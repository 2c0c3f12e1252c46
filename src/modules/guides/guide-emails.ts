import type { EmailMessage } from '../../lib/mail/outbox.js';
import { emailLayout, escapeHtml } from '../../lib/mail/templates.js';

/** Tells a guide which departure they now lead: the tour, the dates and how many are coming so far. */
export function guideAssignedEmail(input: {
  guide: { name: string; email: string };
  departure: { id: string; startDate: Date; endDate: Date; seatsBooked: number; capacity: number | null };
  tourTitle: string;
  paidGuests: number;
  /** Makes each assignment its own message (a guide assigned again later is told again). */
  version: number;
}): EmailMessage {
  const { guide, departure, tourTitle, paidGuests } = input;
  const seats =
    departure.capacity === null
      ? `${departure.seatsBooked} seat(s) booked`
      : `${departure.seatsBooked} of ${departure.capacity} seat(s) booked`;
  const lines = [
    `You are the guide of "${tourTitle}" from ${departure.startDate.toISOString()} to ${departure.endDate.toISOString()}.`,
    `So far: ${seats}, ${paidGuests} guest(s) paid.`,
    `Departure: ${departure.id}. Its manifest (who is coming, and check-in) is at /api/v1/departures/${departure.id}/manifest; all your departures are at /api/v1/guide/departures.`,
  ];
  return {
    template: 'guide-assigned',
    to: guide.email,
    subject: `You are guiding "${tourTitle}"`,
    text: [`Hello ${guide.name},`, '', ...lines].join('\n'),
    html: emailLayout(
      'You have a new departure',
      `<p>Hello ${escapeHtml(guide.name)},</p>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}`,
      'You receive this email because you were assigned as the guide of this departure.',
    ),
    dedupeKey: `guide-assigned:${departure.id}:${input.version}`,
  };
}
