import { and, count, desc, eq, getTableColumns, inArray, like, or, type SQL, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { Database, Executor } from '../../db/client.js';
import { bookings, departures, divisions, tours, tourTypes } from '../../db/schema/index.js';
import {
  countAll,
  escapeLike,
  type ListSpec,
  type ParsedList,
  type ShapedList,
} from '../../lib/list-query.js';
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

const tourViewColumns = {
  ...getTableColumns(tours),
  nextDepartureId: nextDeparture.id,
  departureStart: nextDeparture.startDate,
  departureEnd: nextDeparture.endDate,
  departureCapacity: nextDeparture.capacity,
  departureSeatsBooked: nextDeparture.seatsBooked,
  departureStatus: nextDeparture.status,
  departureBookable: nextDeparture.bookable,
  upcomingDepartures: upcomingDepartures.as('upcoming_departures'),
};

/** A tour with its next bookable departure (null fields when it has no departure at all). */
export type TourView = TourRow & {
  nextDepartureId: string | null;
  departureStart: Date | null;
  departureEnd: Date | null;
  departureCapacity: number | null;
  departureSeatsBooked: number | null;
  departureStatus: string | null;
  departureBookable: boolean | null;
  upcomingDepartures: number;
};

const selectTourViews = (db: Database | Executor) =>
  db.select(tourViewColumns).from(tours).leftJoinLateral(nextDeparture, sql`true`);

/**
 * Tours with a SCHEDULED departure starting in [from, to] (either end optional); the values are placeholders
 * `:departureFrom` and `:departureTo`, like the list filters'.
 */
export function departureRangeFilter(range: { from: boolean; to: boolean }): SQL {
  return sql`exists (select 1 from departures d where d.tour_id = ${tours.id} and d.status = 'SCHEDULED'${
    range.from ? sql` and d.start_date >= ${sql.placeholder('departureFrom')}::timestamptz` : sql``
  }${range.to ? sql` and d.start_date <= ${sql.placeholder('departureTo')}::timestamptz` : sql``})`;
}

export const tourListSpec: ListSpec = {
  searchable: [tours.title, tours.description, tours.location],
  filters: {
    _id: { column: tours.id, kind: 'id' },
    division: { column: tours.divisionId, kind: 'id' },
    tourType: { column: tours.tourTypeId, kind: 'id' },
    location: { column: tours.location, kind: 'text' },
    slug: { column: tours.slug, kind: 'text' },
  },
  sortable: {
    createdAt: tours.createdAt,
    costFrom: tours.costFromMinor,
    // The legacy startDate is the next bookable departure's.
    startDate: nextDeparture.startDate,
    title: tours.title,
  },
  tieBreaker: tours.id,
  projectable: [
    '_id',
    'slug',
    'title',
    'description',
    'images',
    'costFrom',
    'currency',
    'maxGuest',
    'minAge',
    'availableSeats',
    'departureLocation',
    'arrivalLocation',
    'location',
    'startDate',
    'endDate',
    'amenities',
    'included',
    'excluded',
    'tourPlan',
    'division',
    'tourType',
    'cancellationPolicy',
    'departures',
    'nextDeparture',
    'rating',
    'createdAt',
    'updatedAt',
  ],
};

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

/** A list built per request (shapes past the prepared ones); `values` fill its placeholders, `now` included. */
export async function listTours(db: Executor, parsed: ParsedList, values: Record<string, unknown>) {
  const [rows, [totalRow]] = await Promise.all([
    selectTourViews(db)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset)
      .execute(values),
    db.select({ total: countAll }).from(tours).where(parsed.where).execute(values),
  ]);
  return { rows: rows as TourView[], total: totalRow?.total ?? 0 };
}

/** `tour_list_default`: the catalogue's front page (GET /tour without filter, search or sort: newest first). */
export function defaultTourListStatement(db: Database) {
  return selectTourViews(db)
    .orderBy(desc(tours.createdAt), desc(tours.id))
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'));
}

/** `tour_count_all`: the front page's total. */
export function tourCountAllStatement(db: Database) {
  return db.select({ total: countAll }).from(tours);
}

/**
 * The catalogue's front page and its total, as named prepared statements; any other list goes through
 * `listTours`.
 */
export function prepareDefaultTourList(db: Database) {
  const page = defaultTourListStatement(db).prepare('tour_list_default');
  const count = tourCountAllStatement(db).prepare('tour_count_all');
  return async (limit: number, offset: number, now: Date) => {
    const [rows, [totalRow]] = await Promise.all([
      page.execute({ limit, offset, now: now.toISOString() }),
      count.execute(),
    ]);
    return { rows: rows as TourView[], total: totalRow?.total ?? 0 };
  };
}

/** Shapes of filtered lists kept as prepared statements; rarer shapes beyond these are built per request. */
const MAX_PREPARED_LIST_SHAPES = 32;

/** `tour_list_<n>_page` and `tour_list_<n>_total`: a page of one shape of filtered list, and its total. */
export function tourListShapeStatements(db: Database, list: ShapedList) {
  return {
    page: selectTourViews(db)
      .where(list.where)
      .orderBy(...list.orderBy)
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset')),
    total: db.select({ total: countAll }).from(tours).where(list.where),
  };
}

function prepareListShape(db: Database, list: ShapedList, name: string) {
  const statements = tourListShapeStatements(db, list);
  return { page: statements.page.prepare(`${name}_page`), total: statements.total.prepare(`${name}_total`) };
}

/**
 * Filtered and sorted catalogue lists as named prepared statements, a pair (page, total) per shape of the query
 * (which filters, search and sort it uses), so repeated searches are neither rebuilt by the ORM nor parsed and
 * planned again by PostgreSQL. Sort lists are client-chosen, so the number of shapes is capped: past the cap
 * this answers undefined and the caller builds the query itself (`listTours`).
 */
export function prepareShapedTourList(db: Database) {
  const prepared = new Map<string, ReturnType<typeof prepareListShape>>();
  return (list: ShapedList, now: Date) => {
    let statements = prepared.get(list.shape);
    if (!statements && prepared.size < MAX_PREPARED_LIST_SHAPES) {
      statements = prepareListShape(db, list, `tour_list_${prepared.size + 1}`);
      prepared.set(list.shape, statements);
    }
    if (!statements) return undefined;
    const { page, total } = statements;
    return Promise.all([
      page.execute({ ...list.values, now: now.toISOString(), limit: list.limit, offset: list.offset }),
      total.execute(list.values),
    ]).then(([rows, [totalRow]]) => ({ rows: rows as TourView[], total: totalRow?.total ?? 0 }));
  };
}

/** `tour_by_slug`: GET /tour/:slug. */
export function tourBySlugStatement(db: Database) {
  return selectTourViews(db)
    .where(eq(tours.slug, sql.placeholder('slug')))
    .limit(1);
}

/** GET /tour/:slug as a named prepared statement: built and planned once per connection, not per request. */
export function prepareTourBySlug(db: Database) {
  const query = tourBySlugStatement(db).prepare('tour_by_slug');
  return async (slug: string, now: Date): Promise<TourView | undefined> =>
    (await query.execute({ slug, now: now.toISOString() }))[0] as TourView | undefined;
}

/** One tour as the API shows it, by id (after a write). */
export async function findTourViewById(db: Executor, id: string, now: Date): Promise<TourView | undefined> {
  const [row] = await selectTourViews(db)
    .where(eq(tours.id, id))
    .limit(1)
    .execute({ now: now.toISOString() });
  return row as TourView | undefined;
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
