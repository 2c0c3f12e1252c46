import { and, desc, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { asJsonRows, preparedJsonRows, preparedRows } from '../../db/prepared-rows.js';
import { tourCounts, tours } from '../../db/schema/index.js';
import {
  countAll,
  type ListRequest,
  type ListSpec,
  readListQuery,
  type ShapedList,
  shapedListSql,
} from '../../lib/list-query.js';
import { nextDeparture, selectTourViews, type TourView } from './repo.js';
import type { TourListFilters } from './schemas.js';

/*
 * The statements of GET /tour. A request is read and validated first (`readTourListQuery`: its shape and the
 * values of its placeholders); the SQL of a shape is built once, when it first comes, and kept as named
 * prepared statements, so a list request builds no query objects.
 */

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

/**
 * Tours with a SCHEDULED departure starting in [from, to] (either end optional); the values are placeholders
 * `:departureFrom` and `:departureTo`, like the list filters'.
 */
export function departureRangeFilter(range: { from: boolean; to: boolean }): SQL {
  return sql`exists (select 1 from departures d where d.tour_id = ${tours.id} and d.status = 'SCHEDULED'${
    range.from ? sql` and d.start_date >= ${sql.placeholder('departureFrom')}::timestamptz` : sql``
  }${range.to ? sql` and d.start_date <= ${sql.placeholder('departureTo')}::timestamptz` : sql``})`;
}

/** A GET /tour query read and validated; the departure-date filters have their own part of the shape. */
export interface TourListRequest extends ListRequest {
  departureRange: { from: boolean; to: boolean };
}

/** `query` as the route validated it: the departure-date filters are dates already. */
export function readTourListQuery(query: Record<string, unknown> & TourListFilters): TourListRequest {
  const request = readListQuery(query, tourListSpec);
  const from = query.departureFrom !== undefined;
  const to = query.departureTo !== undefined;
  if (!from && !to) return { ...request, departureRange: { from, to } };
  if (from) request.values.departureFrom = query.departureFrom!.toISOString();
  if (to) request.values.departureTo = query.departureTo!.toISOString();
  return {
    ...request,
    shape: `${request.shape}|${from ? 'departureFrom' : ''},${to ? 'departureTo' : ''}`,
    departureRange: { from, to },
  };
}

/** The conditions and order of a request's shape (built when the shape first comes). */
export function tourListSql(request: TourListRequest): Pick<ShapedList, 'where' | 'orderBy' | 'values'> {
  const { where, orderBy } = shapedListSql(tourListSpec, request);
  const range = request.departureRange;
  return {
    where: range.from || range.to ? and(where, departureRangeFilter(range)) : where,
    orderBy,
    values: request.values,
  };
}

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

/** A row of a list page; `total` is the list's total when the page reads it from the maintained counts. */
type TourListRow = TourView & { total?: number };

/**
 * `tour_list_default`, `tour_list_<n>_page` and `_total`: a page of one shape of list and its total. A page
 * row comes as one json value (`asJsonRows`), one column for the driver to parse instead of 30. A counted
 * shape reads its total in the page's own statement (one query, one snapshot); the total statement then only
 * serves a page past the end, which has no row to carry it. Other shapes count their rows next to the page.
 */
export function tourListStatements(db: Database, list: Pick<ShapedList, 'where' | 'orderBy' | 'values'>) {
  const scope = tourCountScope(list);
  const page = asJsonRows(
    (scope
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
      .offset(sql.placeholder('offset')),
  );
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

export type ListPage = { rows: TourView[]; total: number };

function runTourList(db: Database, name: string | undefined, list: Parameters<typeof tourListStatements>[1]) {
  const statements = tourListStatements(db, list);
  const page = preparedJsonRows<TourListRow>(db, name && `${name}_page`, statements.page);
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

/** The catalogue's front page (GET /tour without filter, search or sort: newest first) with its total. */
export const defaultTourList = {
  where: undefined,
  orderBy: [desc(tours.createdAt), desc(tours.id)],
  values: {},
};

/** `tour_list_default` and `tour_count_all`: the front page as named prepared statements. */
export function prepareDefaultTourList(db: Database) {
  const statements = tourListStatements(db, defaultTourList);
  const page = preparedJsonRows<TourListRow>(db, 'tour_list_default', statements.page);
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
 * a list is built per request and run unnamed.
 */
export function prepareShapedTourList(db: Database) {
  const prepared = new Map<string, ReturnType<typeof runTourList>>();
  return (request: TourListRequest, now: Date): Promise<ListPage> => {
    const values = {
      ...request.values,
      now: now.toISOString(),
      limit: request.limit,
      offset: request.offset,
    };
    let run = prepared.get(request.shape);
    if (!run) {
      if (prepared.size >= MAX_PREPARED_LIST_SHAPES) {
        return runTourList(db, undefined, tourListSql(request))(values, request.offset);
      }
      run = runTourList(db, `tour_list_${prepared.size + 1}`, tourListSql(request));
      prepared.set(request.shape, run);
    }
    return run(values, request.offset);
  };
}
