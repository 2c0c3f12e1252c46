import { BOOKING_STATUSES, type BookingStatus } from '../../db/schema/index.js';
import { conflict } from '../../lib/errors.js';

/**
 * Booking state machine: every status a booking may move to, whoever moves it. A confirmed booking never
 * goes back to waiting; an ended one comes back only when a validated payment for it arrives late and its
 * seats can be held again (confirmed, or waiting for review when the gateway marked the payment risky).
 */
const NEXT: Record<BookingStatus, readonly BookingStatus[]> = {
  PENDING: ['COMPLETE', 'CANCEL', 'FAILED'],
  // Cancelled after payment, with the refund its cancellation policy gives.
  COMPLETE: ['CANCEL'],
  CANCEL: ['COMPLETE', 'PENDING'],
  FAILED: ['COMPLETE', 'PENDING'],
};

export const canMoveBooking = (from: BookingStatus, to: BookingStatus): boolean => NEXT[from].includes(to);

/** Every status from which a booking may move to `to`. */
export const bookingStatusesBefore = (to: BookingStatus): BookingStatus[] =>
  BOOKING_STATUSES.filter((from) => canMoveBooking(from, to));

const refused = (from: BookingStatus, to: BookingStatus) =>
  conflict(`A ${from} booking cannot be changed to ${to}`);

/** Refuses (409) a move the machine does not allow. */
export function assertBookingMove(from: BookingStatus, to: BookingStatus): void {
  if (!canMoveBooking(from, to)) throw refused(from, to);
}

/**
 * A new booking's status: it holds its seats and waits for its payment (or, once paid, for an admin's
 * review of the payment).
 */
export const PENDING = 'PENDING' satisfies BookingStatus;

/** Paid and confirmed: the only status that tells the customer their booking is confirmed. */
export const CONFIRMED = 'COMPLETE' satisfies BookingStatus;

/** Bookings holding seats or having bought them: they count against their tour and keep it from being deleted. */
export const SEAT_COUNTING_STATUSES: readonly BookingStatus[] = ['PENDING', 'COMPLETE'];

/** How a booking ends when its payment fails or is cancelled, or its owner or an admin asks for it. */
export const ENDED_UNPAID = { fail: 'FAILED', cancel: 'CANCEL' } as const satisfies Record<
  string,
  BookingStatus
>;
export type EndedUnpaid = (typeof ENDED_UNPAID)[keyof typeof ENDED_UNPAID];

export const isEndedUnpaid = (status: BookingStatus): status is EndedUnpaid =>
  (Object.values(ENDED_UNPAID) as BookingStatus[]).includes(status);

/**
 * The moves a caller may ask for through the API, a part of the machine: owners may only cancel (a paid
 * booking with the refund its cancellation policy gives); COMPLETE comes only from a validated payment, or
 * from an admin approving a paid booking held for review.
 */
export const REQUESTABLE_MOVES: Record<
  Requester,
  Partial<Record<BookingStatus, readonly BookingStatus[]>>
> = {
  owner: { PENDING: ['CANCEL'], COMPLETE: ['CANCEL'] },
  admin: { PENDING: ['CANCEL', 'FAILED'], COMPLETE: ['CANCEL'] },
};
export type Requester = 'owner' | 'admin';

/** Refuses (409) a move `who` may not ask for, in the same words as a move the machine refuses. */
export function assertRequestableMove(who: Requester, from: BookingStatus, to: BookingStatus): void {
  if (!REQUESTABLE_MOVES[who][from]?.includes(to)) throw refused(from, to);
}
