import { and, count, desc, eq, inArray, like, or, type SQL, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { Database, Executor } from '../../db/client.js';
import { asJsonRows, isoInstant, preparedJsonRows, preparedRows } from '../../db/prepared-rows.js';
import {
  bookings,
  type CancellationPolicy,
  departures,
  divisions,
  tours,
  tourTypes,
} from '../../db/schema/index.js';
import { countAll, escapeLike, type ListSpec, type ParsedList } from '../../lib/list-query.js';
import { SEAT_COUNTING_STATUSES } from '../bookings/state.js';

export type TourRow = typeof tours.$inferSelect;
export type NewTourRow = typeof tours.$inferInsert;
export type TourTypeRow = typeof tourTypes.$inferSelect;

/*
 * A tour as the API shows it carries its legacy schedule (startDate, endDate, availableSeats) from its next
 * bookable departure: the soonest SCHEDULED one not started at `:now`, or, when there is none, the latest one.
 * Every read of tours for the API joins it laterally, with `:now` (the app clock) as a placeholder, so the
 * named prepared statements stay prepared.
 */
const NOW = sql.placeholder('now');
const bookable = sql<boolean>`(${departures.status} = 'SCHEDULED' and ${departures.startDate} > ${NOW}::timestamptz)`;

export const nextDeparture = new QueryBuilder()
  .select({
    id: departures.id,
    startDate: departures.startDate,
    endDate: departures.endDate,
    capacity: departures.capacity,
    seatsBooked: departures.seatsBooked,
    status: departures.status,
    bookable: bookable.as('bookable'),
  })
  .from(departures)
  .where(eq(departures.tourId, tours.id))
  .orderBy(
    desc(bookable),
    sql`case when ${bookable} then ${departures.startDate} end`,
    desc(departures.startDate),
  )
  .limit(1)
  .as('next_departure');

/** Upcoming SCHEDULED departures of the tour (index departures_tour_upcoming_idx). */
const upcomingDepartures = sql<number>`(select count(*)::int from departures d
  where d.tour_id = ${tours.id} and d.status = 'SCHEDULED' and d.start_date > ${NOW}::timestamptz)`;

/*
 * A tour as the API shows it, shaped by PostgreSQL: the columns carry the API's names, instants come as ISO
 * text, money in major units (an exact float8 division, as `toMajor`), the legacy seats and next departure
 * already decided. The rows are read through the driver (src/db/prepared-rows.ts), without Drizzle's
 * per-column mapping; only the rating is built in JavaScript (`toTourDto`).
 */
const tourViewColumns = {
  _id: sql<string>`${tours.id}`.as('_id'),
  slug: sql<string>`${tours.slug}`.as('slug'),
  title: sql<string>`${tours.title}`.as('title'),
  description: sql<string | null>`${tours.description}`.as('description'),
  images: sql<string[]>`${tours.images}`.as('images'),
  costFrom: sql<number | null>`${tours.costFromMinor}::float8 / 100`.as('costFrom'),
  currency: sql<string>`${tours.currency}`.as('currency'),
  maxGuest: sql<number | null>`${tours.maxGuest}`.as('maxGuest'),
  minAge: sql<number | null>`${tours.minAge}`.as('minAge'),
  // Seats a legacy client may still book on the departure the schedule shows: none on a CLOSED or CANCELLED
  // one, null when unlimited; without any departure, the tour's maxGuest.
  availableSeats: sql<number | null>`case
    when ${nextDeparture.id} is null then ${tours.maxGuest}
    when ${nextDeparture.capacity} is null then null
    when ${nextDeparture.status} <> 'SCHEDULED' then 0
    else greatest(0, ${nextDeparture.capacity} - ${nextDeparture.seatsBooked}) end`.as('availableSeats'),
  departureLocation: sql<string | null>`${tours.departureLocation}`.as('departureLocation'),
  arrivalLocation: sql<string | null>`${tours.arrivalLocation}`.as('arrivalLocation'),
  location: sql<string | null>`${tours.location}`.as('location'),
  startDate: isoInstant(nextDeparture.startDate).as('startDate'),
  endDate: isoInstant(nextDeparture.endDate).as('endDate'),
  amenities: sql<string[]>`${tours.amenities}`.as('amenities'),
  included: sql<string[]>`${tours.included}`.as('included'),
  excluded: sql<string[]>`${tours.excluded}`.as('excluded'),
  tourPlan: sql<string[]>`${tours.tourPlan}`.as('tourPlan'),
  division: sql<string>`${tours.divisionId}`.as('division'),
  tourType: sql<string>`${tours.tourTypeId}`.as('tourType'),
  cancellationPolicy: sql<CancellationPolicy>`${tours.cancellationPolicy}`.as('cancellationPolicy'),
  departures: upcomingDepartures.as('departures'),
  nextDeparture: sql<string | null>`case when ${nextDeparture.bookable} then ${nextDeparture.id} end`.as(
    'nextDeparture',
  ),
  ratingSum: sql<number>`${tours.ratingSum}`.as('ratingSum'),
  ratingCount: sql<number>`${tours.ratingCount}`.as('ratingCount'),
  createdAt: isoInstant(tours.createdAt).as('createdAt'),
  updatedAt: isoInstant(tours.updatedAt).as('updatedAt'),
};

/** A tour row as `tourViewColumns` shapes it. */
export interface TourView {
  _id: string;
  slug: string;
  title: string;
  description: string | null;
  images: string[];
  costFrom: number | null;
  currency: string;
  maxGuest: number | null;
  minAge: number | null;
  availableSeats: number | null;
  departureLocation: string | null;
  arrivalLocation: string | null;
  location: string | null;
  startDate: string | null;
  endDate: string | null;
  amenities: string[];
  included: string[];
  excluded: string[];
  tourPlan: string[];
  division: string;
  tourType: string;
  cancellationPolicy: CancellationPolicy;
  departures: number;
  nextDeparture: string | null;
  ratingSum: number;
  ratingCount: number;
  createdAt: string;
  updatedAt: string;
}

/** The tour reads' select (list pages, by slug, by id), with `extra` columns after the tour's. */
export const selectTourViews = <Extra extends Record<string, SQL.Aliased>>(db: Database, extra?: Extra) =>
  db
    .select({ ...tourViewColumns, ...(extra as Extra) })
    .from(tours)
    .leftJoinLateral(nextDeparture, sql`true`);

export const tourTypeListSpec: ListSpec = {
  searchable: [tourTypes.name],
  filters: {
    _id: { column: tourTypes.id, kind: 'id' },
    name: { column: tourTypes.name, kind: 'text' },
  },
  sortable: { createdAt: tourTypes.createdAt, name: tourTypes.name },
  tieBreaker: tourTypes.id,
  projectable: ['_id', 'name', 'createdAt', 'updatedAt'],
};

// ---- Tours ----

/** `tour_by_slug`: GET /tour/:slug. */
export function tourBySlugStatement(db: Database) {
  return asJsonRows(
    selectTourViews(db)
      .where(eq(tours.slug, sql.placeholder('slug')))
      .limit(1),
  );
}

/**
 * GET /tour/:slug as a named prepared statement: built and planned once per connection, not per request. The
 * row comes as one json value, one parser for the driver instead of one per column.
 */
export function prepareTourBySlug(db: Database) {
  const query = preparedJsonRows<TourView>(db, 'tour_by_slug', tourBySlugStatement(db));
  return async (slug: string, now: Date): Promise<TourView | undefined> =>
    (await query({ slug, now: now.toISOString() }))[0];
}

/** `tour_view_by_id`: one tour as the API shows it, by id (after a write). */
export function tourViewByIdStatement(db: Database) {
  return selectTourViews(db)
    .where(eq(tours.id, sql.placeholder('id')))
    .limit(1);
}

export function prepareTourViewById(db: Database) {
  const query = preparedRows<TourView>(db, 'tour_view_by_id', tourViewByIdStatement(db));
  return async (id: string, now: Date): Promise<TourView | undefined> =>
    (await query({ id, now: now.toISOString() }))[0];
}

/** With `lock`, the row stays locked until the transaction ends (seat changes and deletes wait). */
export async function findTourById(db: Executor, id: string, lock = false): Promise<TourRow | undefined> {
  const query = db.select().from(tours).where(eq(tours.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function tourSlugsLike(db: Executor, base: string): Promise<string[]> {
  const rows = await db
    .select({ slug: tours.slug })
    .from(tours)
    .where(or(eq(tours.slug, base), like(tours.slug, `${escapeLike(base)}-%`)));
  return rows.map((r) => r.slug);
}

export async function insertTour(db: Executor, values: NewTourRow): Promise<TourRow> {
  const [row] = await db.insert(tours).values(values).returning();
  return row!;
}

export async function updateTourRow(
  db: Executor,
  id: string,
  values: Partial<NewTourRow>,
): Promise<TourRow | undefined> {
  const [row] = await db
    .update(tours)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(tours.id, id))
    .returning();
  return row;
}

export async function deleteTourRow(db: Executor, id: string): Promise<void> {
  await db.delete(tours).where(eq(tours.id, id));
}

/** Bookings that still hold seats or were paid: while any exist the tour stays. */
export async function countActiveBookings(db: Executor, tourId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(bookings)
    .where(and(eq(bookings.tourId, tourId), inArray(bookings.status, SEAT_COUNTING_STATUSES)));
  return row?.n ?? 0;
}

/**
 * True when the division exists. The key-share lock keeps it from being deleted before the
 * transaction that references it commits.
 */
export async function lockDivisionForReference(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .select({ id: divisions.id })
    .from(divisions)
    .where(eq(divisions.id, id))
    .for('key share');
  return rows.length > 0;
}

export async function lockTourTypeForReference(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .select({ id: tourTypes.id })
    .from(tourTypes)
    .where(eq(tourTypes.id, id))
    .for('key share');
  return rows.length > 0;
}

// ---- Tour types ----

export async function listTourTypes(db: Executor, parsed: ParsedList) {
  const [rows, [totalRow]] = await Promise.all([
    db
      .select()
      .from(tourTypes)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(tourTypes).where(parsed.where),
  ]);
  return { rows, total: totalRow?.total ?? 0 };
}

export async function findTourTypeById(
  db: Executor,
  id: string,
  lock = false,
): Promise<TourTypeRow | undefined> {
  const query = db.select().from(tourTypes).where(eq(tourTypes.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function insertTourType(db: Executor, name: string): Promise<TourTypeRow> {
  const [row] = await db.insert(tourTypes).values({ name }).returning();
  return row!;
}

export async function updateTourTypeRow(
  db: Executor,
  id: string,
  name: string,
): Promise<TourTypeRow | undefined> {
  const [row] = await db
    .update(tourTypes)
    .set({ name, updatedAt: new Date() })
    .where(eq(tourTypes.id, id))
    .returning();
  return row;
}

export async function deleteTourTypeRow(db: Executor, id: string): Promise<void> {
  await db.delete(tourTypes).where(eq(tourTypes.id, id));
}

export async function countToursOfType(db: Executor, tourTypeId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(tours).where(eq(tours.tourTypeId, tourTypeId));
  return row?.n ?? 0;
}
