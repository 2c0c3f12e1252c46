import { and, count, desc, eq, inArray, like, or, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { bookings, divisions, tours, tourTypes } from '../../db/schema/index.js';
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
    startDate: tours.startDate,
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

export async function listTours(db: Executor, parsed: ParsedList) {
  const [rows, [totalRow]] = await Promise.all([
    db
      .select()
      .from(tours)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(tours).where(parsed.where),
  ]);
  return { rows, total: totalRow?.total ?? 0 };
}

/** `tour_list_default`: the catalogue's front page (GET /tour without filter, search or sort: newest first). */
export function defaultTourListStatement(db: Database) {
  return db
    .select()
    .from(tours)
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
  return async (limit: number, offset: number) => {
    const [rows, [totalRow]] = await Promise.all([page.execute({ limit, offset }), count.execute()]);
    return { rows, total: totalRow?.total ?? 0 };
  };
}

/** Shapes of filtered lists kept as prepared statements; rarer shapes beyond these are built per request. */
const MAX_PREPARED_LIST_SHAPES = 32;

/** `tour_list_<n>_page` and `tour_list_<n>_total`: a page of one shape of filtered list, and its total. */
export function tourListShapeStatements(db: Database, list: ShapedList) {
  return {
    page: db
      .select()
      .from(tours)
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
  return (list: ShapedList) => {
    let statements = prepared.get(list.shape);
    if (!statements && prepared.size < MAX_PREPARED_LIST_SHAPES) {
      statements = prepareListShape(db, list, `tour_list_${prepared.size + 1}`);
      prepared.set(list.shape, statements);
    }
    if (!statements) return undefined;
    const { page, total } = statements;
    return Promise.all([
      page.execute({ ...list.values, limit: list.limit, offset: list.offset }),
      total.execute(list.values),
    ]).then(([rows, [totalRow]]) => ({ rows, total: totalRow?.total ?? 0 }));
  };
}

/** `tour_by_slug`: GET /tour/:slug. */
export function tourBySlugStatement(db: Database) {
  return db
    .select()
    .from(tours)
    .where(eq(tours.slug, sql.placeholder('slug')))
    .limit(1);
}

/** GET /tour/:slug as a named prepared statement: built and planned once per connection, not per request. */
export function prepareTourBySlug(db: Database) {
  const query = tourBySlugStatement(db).prepare('tour_by_slug');
  return async (slug: string): Promise<TourRow | undefined> => (await query.execute({ slug }))[0];
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
