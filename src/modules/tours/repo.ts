import { type AnyColumn, and, count, desc, eq, inArray, like, or, type SQL, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { Database, Executor } from '../../db/client.js';
import { preparedRows } from '../../db/prepared-rows.js';
import {
  bookings,
  type CancellationPolicy,
  departures,
  divisions,
  tourCounts,
  tours,
  tourTypes,
} from '../../db/schema/index.js';
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

/** An instant as `Date.prototype.toISOString` writes it (UTC, milliseconds truncated, as the driver's Date). */
const isoText = (instant: AnyColumn) =>
  sql<string | null>`to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

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
  startDate: isoText(nextDeparture.startDate).as('startDate'),
  endDate: isoText(nextDeparture.endDate).as('endDate'),
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
  createdAt: isoText(tours.createdAt).as('createdAt'),
  updatedAt: isoText(tours.updatedAt).as('updatedAt'),
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

/** A row of a list page; `total` is the list's total when the page reads it from the maintained counts. */
type TourListRow = TourView & { total?: number };

const selectTourViews = <Extra extends Record<string, SQL.Aliased>>(db: Database, extra?: Extra) =>
  db
    .select({ ...tourViewColumns, ...(extra as Extra) })
    .from(tours)
    .leftJoinLateral(nextDeparture, sql`true`);

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

/**
 * The maintained count (table tour_counts, kept by triggers) that is the total of a list, or undefined when
 * its rows must be counted. Counted are every tour, one division and one tour type, whatever the sort; a
 * search, a departure range, another filter or two filters together are counted row by row. Every condition
 * of a shaped list has its value in `values`, so the keys there say which conditions it has.
 */
export type TourCountScope =
  | { scope: 'all' }
  | { scope: 'division' | 'tour_type'; placeholder: 'filter_division' | 'filter_tourType' };

export function tourCountScope(list: Pick<ShapedList, 'values'>): TourCountScope | undefined {
  const keys = Object.keys(list.values);
  if (keys.length === 0) return { scope: 'all' };
  if (keys.length > 1) return undefined;
  if (keys[0] === 'filter_division') return { scope: 'division', placeholder: 'filter_division' };
  if (keys[0] === 'filter_tourType') return { scope: 'tour_type', placeholder: 'filter_tourType' };
  return undefined;
}

/** The count row of a scope; the key is the id as PostgreSQL writes it, whatever case the client sent. */
function countRow(scope: TourCountScope): SQL {
  return scope.scope === 'all'
    ? sql`${tourCounts.scope} = 'all' and ${tourCounts.key} = ''`
    : sql`${tourCounts.scope} = ${sql.raw(`'${scope.scope}'`)} and ${tourCounts.key} = ${sql.placeholder(
        scope.placeholder,
      )}::uuid::text`;
}

/**
 * `tour_list_default`, `tour_list_<n>_page` and `_total`: a page of one shape of list and its total. A counted
 * shape reads its total in the page's own statement (one query, one snapshot); the total statement then only
 * serves a page past the end, which has no row to carry it. Other shapes count their rows next to the page.
 */
export function tourListStatements(db: Database, list: Pick<ShapedList, 'where' | 'orderBy' | 'values'>) {
  const scope = tourCountScope(list);
  const page = (
    scope
      ? selectTourViews(db, {
          total:
            sql<number>`coalesce((select ${tourCounts.n} from ${tourCounts} where ${countRow(scope)}), 0)`.as(
              'total',
            ),
        })
      : selectTourViews(db)
  )
    .where(list.where)
    .orderBy(...list.orderBy)
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'));
  // Named `total`: the rows are read by column name.
  const total = scope
    ? db
        .select({ total: sql<number>`${tourCounts.n}`.as('total') })
        .from(tourCounts)
        .where(countRow(scope))
    : db
        .select({ total: countAll.as('total') })
        .from(tours)
        .where(list.where);
  return { page, total, counted: scope !== undefined };
}

type ListPage = { rows: TourView[]; total: number };

function runTourList(db: Database, name: string | undefined, list: Parameters<typeof tourListStatements>[1]) {
  const statements = tourListStatements(db, list);
  const page = preparedRows<TourListRow>(db, name && `${name}_page`, statements.page);
  const total = preparedRows<{ total: number }>(db, name && `${name}_total`, statements.total);
  return async (values: Record<string, unknown>, offset: number): Promise<ListPage> => {
    if (!statements.counted) {
      const [rows, [totalRow]] = await Promise.all([page(values), total(values)]);
      return { rows, total: totalRow?.total ?? 0 };
    }
    const rows = await page(values);
    // No row on the first page: the list is empty in this snapshot.
    if (rows.length > 0 || offset === 0) return { rows, total: rows[0]?.total ?? 0 };
    const [totalRow] = await total(values);
    return { rows, total: totalRow?.total ?? 0 };
  };
}

const listValues = (list: ShapedList, now: Date) => ({
  ...list.values,
  now: now.toISOString(),
  limit: list.limit,
  offset: list.offset,
});

/** A list built per request (shapes past the prepared ones), run unnamed. */
export function listTours(db: Database, list: ShapedList, now: Date): Promise<ListPage> {
  return runTourList(db, undefined, list)(listValues(list, now), list.offset);
}

/** The catalogue's front page (GET /tour without filter, search or sort: newest first) with its total. */
export const defaultTourList = {
  where: undefined,
  orderBy: [desc(tours.createdAt), desc(tours.id)],
  values: {},
};

/** `tour_list_default` and `tour_count_all`: the front page as named prepared statements. */
export function prepareDefaultTourList(db: Database) {
  const statements = tourListStatements(db, defaultTourList);
  const page = preparedRows<TourListRow>(db, 'tour_list_default', statements.page);
  const count = preparedRows<{ total: number }>(db, 'tour_count_all', statements.total);
  return async (limit: number, offset: number, now: Date): Promise<ListPage> => {
    const rows = await page({ limit, offset, now: now.toISOString() });
    if (rows.length > 0 || offset === 0) return { rows, total: rows[0]?.total ?? 0 };
    const [totalRow] = await count();
    return { rows, total: totalRow?.total ?? 0 };
  };
}

/** Shapes of filtered lists kept as prepared statements; rarer shapes beyond these are built per request. */
const MAX_PREPARED_LIST_SHAPES = 32;

/**
 * Filtered and sorted catalogue lists as named prepared statements, a pair (page, total) per shape of the query
 * (which filters, search and sort it uses), so repeated searches are neither rebuilt by the ORM nor parsed and
 * planned again by PostgreSQL. Sort lists are client-chosen, so the number of shapes is capped: past the cap
 * this answers undefined and the caller builds the query itself (`listTours`).
 */
export function prepareShapedTourList(db: Database) {
  const prepared = new Map<string, ReturnType<typeof runTourList>>();
  return (list: ShapedList, now: Date): Promise<ListPage> | undefined => {
    let run = prepared.get(list.shape);
    if (!run && prepared.size < MAX_PREPARED_LIST_SHAPES) {
      run = runTourList(db, `tour_list_${prepared.size + 1}`, list);
      prepared.set(list.shape, run);
    }
    return run?.(listValues(list, now), list.offset);
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
  const query = preparedRows<TourView>(db, 'tour_by_slug', tourBySlugStatement(db));
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
