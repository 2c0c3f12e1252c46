import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import { bookings, departures, tours, users } from '../../db/schema/index.js';
import { countAll } from '../../lib/list-query.js';
import { CONFIRMED } from '../bookings/state.js';

/** A departure with its tour's title and slug and its assigned guide. */
const departureColumns = {
  id: departures.id,
  tourId: departures.tourId,
  tourTitle: tours.title,
  tourSlug: tours.slug,
  startDate: departures.startDate,
  endDate: departures.endDate,
  status: departures.status,
  capacity: departures.capacity,
  seatsBooked: departures.seatsBooked,
  guideId: departures.guideId,
};

export async function findDepartureWithTour(db: Executor, departureId: string) {
  const [row] = await db
    .select(departureColumns)
    .from(departures)
    .innerJoin(tours, eq(tours.id, departures.tourId))
    .where(eq(departures.id, departureId));
  return row;
}
export type GuideDepartureRow = NonNullable<Awaited<ReturnType<typeof findDepartureWithTour>>>;

/** A user's name and email, when the user exists and is not deleted. */
export async function findContact(db: Executor, userId: string) {
  const [row] = await db
    .select({ name: users.name, email: users.email })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.isDeleted, false)));
  return row;
}

/** Paid bookings of the departure (the aggregate always gives one row, so the lateral join keeps every departure). */
const paidCounts = (db: Executor) =>
  db
    .select({
      paidBookings: sql<number>`count(*)::int`.as('paid_bookings'),
      paidGuests: sql<number>`coalesce(sum(${bookings.guestCount}), 0)::int`.as('paid_guests'),
      checkedInBookings: sql<number>`count(${bookings.checkedInAt})::int`.as('checked_in_bookings'),
      checkedInGuests:
        sql<number>`coalesce(sum(${bookings.guestCount}) filter (where ${bookings.checkedInAt} is not null), 0)::int`.as(
          'checked_in_guests',
        ),
    })
    .from(bookings)
    .where(and(eq(bookings.departureId, departures.id), eq(bookings.status, CONFIRMED)))
    .as('paid');

/**
 * The guide's departures, one page: those not ended at `now` first, soonest start first, then the ended ones,
 * latest first. Each with its paid bookings and guests, and how many of them have checked in.
 */
export async function selectGuideDepartures(
  db: Executor,
  guideId: string,
  now: Date,
  window: { limit: number; offset: number },
) {
  const paid = paidCounts(db);
  const ended = sql`${departures.endDate} < ${now}`;
  return db
    .select({
      ...departureColumns,
      paidBookings: paid.paidBookings,
      paidGuests: paid.paidGuests,
      checkedInBookings: paid.checkedInBookings,
      checkedInGuests: paid.checkedInGuests,
    })
    .from(departures)
    .innerJoin(tours, eq(tours.id, departures.tourId))
    .innerJoinLateral(paid, sql`true`)
    .where(eq(departures.guideId, guideId))
    .orderBy(
      asc(ended),
      asc(sql`case when ${ended} then null else ${departures.startDate} end`),
      desc(departures.startDate),
      asc(departures.id),
    )
    .limit(window.limit)
    .offset(window.offset);
}

export async function countGuideDepartures(db: Executor, guideId: string): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(departures).where(eq(departures.guideId, guideId));
  return row?.n ?? 0;
}

const checker = alias(users, 'checker');

/** One line of a manifest: a paid booking with its traveller and its check-in. */
const manifestColumns = {
  id: bookings.id,
  name: users.name,
  phone: users.phone,
  email: users.email,
  guests: bookings.guestCount,
  checkedInAt: bookings.checkedInAt,
  checkedInById: bookings.checkedInBy,
  checkedInByName: checker.name,
};

function selectManifestRows(db: Executor, where: SQL | undefined) {
  return db
    .select(manifestColumns)
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .leftJoin(checker, eq(checker.id, bookings.checkedInBy))
    .where(where);
}

/** The departure's paid bookings, by traveller name (a roll call), then oldest booking first. */
export async function selectManifest(db: Executor, departureId: string) {
  return selectManifestRows(
    db,
    and(eq(bookings.departureId, departureId), eq(bookings.status, CONFIRMED)),
  ).orderBy(asc(users.name), asc(bookings.createdAt), asc(bookings.id));
}
export type ManifestRow = Awaited<ReturnType<typeof selectManifest>>[number];

export async function findManifestRow(db: Executor, bookingId: string): Promise<ManifestRow | undefined> {
  const [row] = await selectManifestRows(db, eq(bookings.id, bookingId));
  return row;
}

/** Locks a booking until the transaction ends, with what check-in needs from its departure. */
export async function lockBookingForCheckIn(tx: Executor, bookingId: string) {
  const [row] = await tx
    .select({
      id: bookings.id,
      status: bookings.status,
      checkedInAt: bookings.checkedInAt,
      departureId: departures.id,
      guideId: departures.guideId,
      startDate: departures.startDate,
      endDate: departures.endDate,
    })
    .from(bookings)
    .innerJoin(departures, eq(departures.id, bookings.departureId))
    .where(eq(bookings.id, bookingId))
    .for('update', { of: bookings });
  return row;
}

export async function markCheckedIn(tx: Executor, bookingId: string, by: string, at: Date) {
  await tx.update(bookings).set({ checkedInAt: at, checkedInBy: by }).where(eq(bookings.id, bookingId));
}
