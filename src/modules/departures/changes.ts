import type { Executor, Tx } from '../../db/client.js';
import { findPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.js';
import { conflict, validationError } from '../../lib/errors.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { departureChangedEmail } from '../../lib/mail/templates.js';
import { CONFIRMED } from '../bookings/state.js';
import { queueOffers } from '../waitlists/hooks.js';
import * as repo from './repo.js';
import { MAX_DEPARTURE_CAPACITY } from './schemas.js';

/** The rules every change to a departure follows, whichever route asks for it, and what they check. */

export const isUniqueStartViolation = (err: unknown) =>
  findPgError(err, (e) => e.code === UNIQUE_VIOLATION && e.constraint === 'departures_tour_start_key') !==
  undefined;

export const sameStartConflict = () => conflict('This tour already has a departure starting at that instant');

export async function assertGuide(tx: Executor, guide: string | null | undefined, path = 'guide') {
  if (guide === undefined || guide === null) return;
  const role = await repo.findUserRole(tx, guide);
  if (role !== 'GUIDE') throw validationError(path, `${path} must be a user with the GUIDE role`);
}

/** What a change may set on a departure; absent fields stay as they are. */
export interface DepartureChange {
  startDate?: Date;
  endDate?: Date;
  /** Null is never a capacity: refused with a 400 naming `capacityField`. */
  capacity?: number | null;
  priceMinor?: number | null;
  status?: 'SCHEDULED' | 'CLOSED';
  guide?: string | null;
}

/** A capacity a departure may have: a whole number 1..MAX_DEPARTURE_CAPACITY, never null (unlimited). */
export function assertCapacity(capacity: number | null, field: string): asserts capacity is number {
  if (capacity === null || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_DEPARTURE_CAPACITY) {
    throw validationError(
      field,
      `${field} must be a whole number of seats from 1 to ${MAX_DEPARTURE_CAPACITY} (a departure is never unlimited)`,
    );
  }
}

/**
 * The rules of every change to a departure, whichever route asks for it (PATCH /departures/:id, or a legacy
 * PATCH /tour/:id through the tour's next departure), on a row the caller's transaction has locked: a
 * cancelled departure stays as it is (409); a new start is in the future; capacity is 1..1000 and never below
 * the seats booked (409); customers with paid bookings are mailed changed dates or price; more seats, or a
 * departure open again, go to those waiting. `capacityField` names capacity as the caller's request does.
 */
export async function changeDeparture(
  tx: Tx,
  current: repo.DepartureRow,
  change: DepartureChange,
  now: Date,
  capacityField = 'capacity',
): Promise<repo.DepartureRow> {
  if (current.status === 'CANCELLED') throw conflict('A cancelled departure cannot be changed');
  const startDate = change.startDate ?? current.startDate;
  const endDate = change.endDate ?? current.endDate;
  if (endDate < startDate) throw validationError('endDate', 'endDate must not be before startDate');
  const startMoved = startDate.getTime() !== current.startDate.getTime();
  const datesChanged = startMoved || endDate.getTime() !== current.endDate.getTime();
  if (startMoved && startDate <= now) throw validationError('startDate', 'startDate must be in the future');
  if (change.capacity !== undefined) {
    assertCapacity(change.capacity, capacityField);
    if (change.capacity < current.seatsBooked) {
      throw conflict(
        `${capacityField} cannot be lower than the ${current.seatsBooked} seat(s) already booked on this departure`,
      );
    }
  }
  await assertGuide(tx, change.guide);
  const priceMinor = change.priceMinor === undefined ? current.priceMinor : change.priceMinor;
  const priceChanged = priceMinor !== current.priceMinor;
  let updated: repo.DepartureRow;
  try {
    // A savepoint: a start taken by another departure of the tour is a 409, not an aborted transaction.
    updated = (await tx.transaction((sp) =>
      repo.updateDepartureRow(sp, current.id, {
        startDate,
        endDate,
        priceMinor,
        ...(change.capacity === undefined ? {} : { capacity: change.capacity }),
        ...(change.status === undefined ? {} : { status: change.status }),
        ...(change.guide === undefined ? {} : { guideId: change.guide }),
      }),
    ))!;
  } catch (err) {
    if (isUniqueStartViolation(err)) throw sameStartConflict();
    throw err;
  }
  if (datesChanged || priceChanged) {
    await mailPaidCustomers(tx, current, updated, { datesChanged, priceChanged });
  }
  // More seats, or open again: those waiting may fit now.
  const moreSeats =
    change.capacity !== undefined &&
    change.capacity !== null &&
    change.capacity > (current.capacity ?? Infinity);
  const reopened = current.status === 'CLOSED' && updated.status === 'SCHEDULED';
  if (moreSeats || reopened) await queueOffers(tx, [current.id]);
  return updated;
}
/** Tells every customer with a paid booking on the departure what changed (in the caller's transaction). */
async function mailPaidCustomers(
  tx: Executor,
  before: repo.DepartureRow,
  after: repo.DepartureRow,
  what: { datesChanged: boolean; priceChanged: boolean },
) {
  const paid = await repo.selectDepartureBookings(tx, after.id, [CONFIRMED]);
  if (paid.length === 0) return;
  const tour = await repo.findTourForDepartures(tx, after.tourId);
  const changes: string[] = [];
  if (what.datesChanged) {
    changes.push(
      `Dates: ${before.startDate.toISOString()} – ${before.endDate.toISOString()} are now ` +
        `${after.startDate.toISOString()} – ${after.endDate.toISOString()}`,
    );
  }
  if (what.priceChanged) {
    changes.push(
      'The price per guest for new bookings of this departure has changed; your price stays as paid',
    );
  }
  const version = after.updatedAt.getTime();
  for (const booking of paid) {
    const mail = departureChangedEmail({
      name: booking.userName,
      tourTitle: tour?.title ?? 'your tour',
      guestCount: booking.guestCount,
      changes,
      startDate: after.startDate.toISOString(),
      endDate: after.endDate.toISOString(),
    });
    await enqueueEmail(tx, {
      ...mail,
      to: booking.userEmail,
      dedupeKey: `departure-changed:${after.id}:${booking.id}:${version}`,
    });
  }
}
