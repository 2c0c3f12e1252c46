import type { Executor } from '../../db/client.js';
import type { BookingStatus } from '../../db/schema/index.js';
import { conflict } from '../../lib/errors.js';
import { markOfferBooked } from '../waitlists/hooks.js';
import * as repo from './repo.js';
import { markSeatsHeld, reholdSeats, releaseHeldSeats } from './seats.js';
import { assertBookingMove, CONFIRMED, ENDED_UNPAID, type EndedUnpaid, PENDING } from './state.js';

/**
 * A booking's status changes with what they carry along (seats, review notes): the bookings service uses
 * them, and they are all payments may do to a booking. Each runs inside the caller's transaction, which has
 * locked the booking's row (booking first, then its payment: the order every writer uses, so none deadlock).
 */

/** A booking whose row the caller's transaction has locked, with what its status changes need. */
export interface LockedBooking {
  id: string;
  tourId: string;
  departureId: string;
  status: BookingStatus;
  guestCount: number;
  seatsHeld: boolean;
}

/** Moves a locked booking through the state machine; a move it refuses is a 409. */
export async function moveBooking(
  tx: Executor,
  booking: LockedBooking,
  to: BookingStatus,
  needsReview?: string | null,
): Promise<void> {
  assertBookingMove(booking.status, to);
  const moved = await repo.moveBookings(
    tx,
    [booking.id],
    to,
    needsReview === undefined ? {} : { needsReview },
  );
  if (moved.length === 0) throw conflict(`This booking can no longer be changed to ${to}`);
  // A waitlist offer paid (or approved after review) books its entry.
  if (to === CONFIRMED) await markOfferBooked(tx, booking.id);
}

/**
 * Where a paid payment leaves its booking, and so what the customer may be told: only a confirmed booking is
 * confirmed; a pending one waits for an admin to review the payment; any other was not confirmed (and its
 * payment is refunded in full).
 */
export type PaidBooking = 'confirmed' | 'under-review' | 'not-confirmed';

export const paidBookingOf = (status: BookingStatus): PaidBooking =>
  status === CONFIRMED ? 'confirmed' : status === PENDING ? 'under-review' : 'not-confirmed';

const RISKY_PAYMENT_NOTE =
  'The gateway marked this payment as risky (risk_level 1): approve with status COMPLETE or reject with CANCEL';

/**
 * Puts a booking whose payment just became PAID where it belongs. A late payment (the booking expired or
 * was cancelled) takes its seats back if any are left; without seats the booking stays as it was and the
 * caller refunds the payment ('not-confirmed'). A payment the gateway marks risky keeps the seats but leaves
 * the booking pending until an admin approves or rejects it (the hold sweeper leaves such bookings alone).
 */
export async function confirmPaid(
  tx: Executor,
  booking: LockedBooking,
  payment: { risky: boolean },
): Promise<PaidBooking> {
  if (booking.status === CONFIRMED) return 'confirmed';
  // Paid now: the terms of a cancellation are those of today, whatever the tour's policy becomes.
  await repo.copyCancellationPolicy(tx, booking.id);
  let lateNote: string | undefined;
  if (booking.status !== PENDING) {
    const held = booking.seatsHeld || (await reholdSeats(tx, booking.departureId, booking.guestCount));
    if (!held) return 'not-confirmed';
    if (!booking.seatsHeld) await markSeatsHeld(tx, booking.id);
    lateNote = `Paid after the booking was ${booking.status}; its seats were held again`;
  }
  if (payment.risky) {
    const note = lateNote ? `${lateNote}. ${RISKY_PAYMENT_NOTE}` : RISKY_PAYMENT_NOTE;
    if (booking.status === PENDING) await repo.flagForReview(tx, booking.id, note);
    else await moveBooking(tx, booking, PENDING, note);
    return 'under-review';
  }
  await moveBooking(tx, booking, CONFIRMED, lateNote);
  return 'confirmed';
}

/**
 * The booking's payment failed or was cancelled: a pending booking gives its seats back and ends; a booking
 * in any other status stays as it is. A payment the traveller cancelled lets the hold go as cancelling the
 * booking does (the re-hold cool-down counts from now); a declined one does not, so they may try again.
 */
export async function releaseHold(tx: Executor, booking: LockedBooking, ended: EndedUnpaid): Promise<void> {
  if (booking.status !== PENDING) return;
  if (ended === ENDED_UNPAID.cancel) await repo.endHoldAt(tx, booking.id);
  await releaseHeldSeats(tx, [booking.id]);
  await moveBooking(tx, booking, ended);
}
