import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../src/context.js';
import { bookings, departures, divisions, payments, tours, tourTypes } from '../../src/db/schema/index.js';

export interface TourOptions {
  title?: string;
  /** Price per guest in major units (BDT). */
  costFrom?: number | null;
  maxGuest?: number | null;
  /** Its one departure's start (default in 30 days); null: a tour scheduled without dates (in the past). */
  startDate?: Date | null;
}

/**
 * Inserts a division, a tour type and a bookable tour with one departure directly (the catalogue routes are not
 * needed).
 */
export async function createTour(ctx: AppContext, options: TourOptions = {}) {
  const suffix = randomBytes(4).toString('hex');
  const [division] = await ctx.db
    .insert(divisions)
    .values({ name: `Division ${suffix}`, slug: `division-${suffix}` })
    .returning();
  const [tourType] = await ctx.db
    .insert(tourTypes)
    .values({ name: `Type ${suffix}` })
    .returning();
  const title = options.title ?? `Tour ${suffix}`;
  const [tour] = await ctx.db
    .insert(tours)
    .values({
      title,
      slug: `tour-${suffix}`,
      location: 'Sylhet',
      images: ['http://api.test.local/uploads/images/a.webp'],
      costFromMinor: options.costFrom === null ? null : Math.round((options.costFrom ?? 1500.5) * 100),
      maxGuest: options.maxGuest === undefined ? 20 : options.maxGuest,
      divisionId: division!.id,
      tourTypeId: tourType!.id,
    })
    .returning();
  const startDate =
    options.startDate === undefined
      ? new Date(Date.now() + 30 * 24 * 3600_000)
      : (options.startDate ?? tour!.createdAt);
  const [departure] = await ctx.db
    .insert(departures)
    .values({ tourId: tour!.id, startDate, endDate: startDate, capacity: tour!.maxGuest })
    .returning();
  return { ...tour!, departureId: departure!.id, startDate };
}

/** Seats held or sold on all of the tour's departures. */
export async function seatsBooked(ctx: AppContext, tourId: string): Promise<number> {
  const [row] = await ctx.db
    .select({ n: sql<number>`coalesce(sum(${departures.seatsBooked}), 0)::int` })
    .from(departures)
    .where(eq(departures.tourId, tourId));
  return row!.n;
}

export async function bookingState(ctx: AppContext, bookingId: string) {
  const [row] = await ctx.db
    .select({ booking: bookings, payment: payments })
    .from(bookings)
    .innerJoin(payments, eq(payments.bookingId, bookings.id))
    .where(eq(bookings.id, bookingId));
  return row!;
}

/** A test clock that starts at the real time and moves only when told. */
export function movableClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
