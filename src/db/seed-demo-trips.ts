import { inArray } from 'drizzle-orm';
import type { Executor } from './client.js';
import { departures, users } from './schema/index.js';
import { DEMO_GUIDE_EMAIL, DEMO_TRAVELLER_EMAIL, insertPaidDemoBooking } from './seed-demo-accounts.js';

/**
 * Two paid trips of the demo traveller that make the after-booking flows worth trying in development, both
 * placed relative to the moment the demo data is loaded:
 * - a trip that ended a few days ago and is not reviewed yet (a review can be written at once);
 * - a trip led by the demo guide that starts a few hours from now, so its check-in window (from 24 hours
 *   before the start until the end) is open: the guide sees the manifest and can check the traveller in.
 */

/** Demo tours the two trips are departures of (titles in seed-demo.ts). */
export const UNREVIEWED_TRIP_TOUR = 'Bagerhat Sixty Dome Mosque Tour';
export const CHECK_IN_TRIP_TOUR = 'Srimangal Tea Garden Retreat';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const GUESTS = 2;

export interface TripTour {
  id: string;
  costFromMinor: number | null;
  currency: string;
  days: number;
  maxGuest: number;
}

/** Start at the whole hour `hoursFromNow` after `now`; ends on the evening of the tour's last day. */
function tripDates(now: Date, hoursFromNow: number, days: number) {
  const start = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + hoursFromNow * HOUR_MS);
  return { startDate: start, endDate: new Date(start.getTime() + (days - 1) * DAY_MS + 9 * HOUR_MS) };
}

/** Inserts both trips with their departures, paid bookings and payments, in the caller's transaction. */
export async function seedDemoTravellerTrips(
  tx: Executor,
  trips: { unreviewed: TripTour; checkIn: TripTour },
  now: Date,
): Promise<void> {
  const people = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(inArray(users.email, [DEMO_GUIDE_EMAIL, DEMO_TRAVELLER_EMAIL]));
  const guideId = people.find((p) => p.email === DEMO_GUIDE_EMAIL)?.id;
  const travellerId = people.find((p) => p.email === DEMO_TRAVELLER_EMAIL)?.id;
  if (!guideId || !travellerId) return;

  const planned = [
    // Ended three days before now: reviewable, and long enough ago to read as a past trip.
    {
      tour: trips.unreviewed,
      ...tripDates(now, -(trips.unreviewed.days + 3) * 24, trips.unreviewed.days),
      guideId: null,
    },
    // Starts six hours from now: inside its check-in window for the whole trip.
    { tour: trips.checkIn, ...tripDates(now, 6, trips.checkIn.days), guideId },
  ];
  for (const trip of planned) {
    const [departure] = await tx
      .insert(departures)
      .values({
        tourId: trip.tour.id,
        startDate: trip.startDate,
        endDate: trip.endDate,
        capacity: trip.tour.maxGuest,
        seatsBooked: GUESTS,
        guideId: trip.guideId,
      })
      .returning({ id: departures.id });
    const unitPriceMinor = trip.tour.costFromMinor ?? 0;
    const bookedAt = new Date(Math.min(now.getTime(), trip.startDate.getTime()) - 7 * DAY_MS);
    await insertPaidDemoBooking(tx, {
      userId: travellerId,
      tourId: trip.tour.id,
      departureId: departure!.id,
      guests: GUESTS,
      unitPriceMinor,
      currency: trip.tour.currency,
      bookedAt,
    });
  }
}
