import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';

/** Checks for the maintained tour counts (table tour_counts) and the list totals read from them. */

const rows = async <Row>(db: Database, query: ReturnType<typeof sql>) =>
  ((await db.execute(query)) as unknown as { rows: Row[] }).rows;

/** The counts as kept, without the rows at 0 (a division whose tours all left keeps its row). */
export async function keptCounts(db: Database): Promise<Record<string, number>> {
  const kept = await rows<{ scope: string; key: string; n: number }>(
    db,
    sql`select scope, key, n from tour_counts where n <> 0`,
  );
  return Object.fromEntries(kept.map((r) => [`${r.scope}:${r.key}`, r.n]));
}

/** The same counts, counted from the tours themselves. */
export async function recountedCounts(db: Database): Promise<Record<string, number>> {
  const counted = await rows<{ scope: string; key: string; n: number }>(
    db,
    sql`select 'all' as scope, '' as key, count(*)::int as n from tours having count(*) > 0
        union all select 'division', division_id::text, count(*)::int from tours group by division_id
        union all select 'tour_type', tour_type_id::text, count(*)::int from tours group by tour_type_id`,
  );
  return Object.fromEntries(counted.map((r) => [`${r.scope}:${r.key}`, r.n]));
}

export async function expectCountsExact(db: Database): Promise<void> {
  expect(await keptCounts(db)).toEqual(await recountedCounts(db));
}

/** `meta.total` of GET /tour with this query string. */
export async function listTotal(app: FastifyInstance, query = ''): Promise<number> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/tour${query ? `?${query}` : ''}` });
  expect(res.statusCode).toBe(200);
  const { meta, data } = res.json();
  expect(meta.totalPage).toBe(Math.ceil(meta.total / meta.limit));
  if (meta.page === 1) expect(data.length).toBe(Math.min(meta.total, meta.limit));
  return meta.total;
}

export interface TourCounts {
  all: number;
  division: (id: string) => number;
  tourType: (id: string) => number;
  both: (division: string, tourType: string) => number;
}

/** Expected totals, counted with count(*) in the test. */
export async function countedTours(db: Database): Promise<TourCounts> {
  const tours = await rows<{ division_id: string; tour_type_id: string }>(
    db,
    sql`select division_id, tour_type_id from tours`,
  );
  return {
    all: tours.length,
    division: (id) => tours.filter((t) => t.division_id === id).length,
    tourType: (id) => tours.filter((t) => t.tour_type_id === id).length,
    both: (d, ty) => tours.filter((t) => t.division_id === d && t.tour_type_id === ty).length,
  };
}

/**
 * Every list shape GET /tour reads a count for (all, one division, one tour type, any sort, any page, the id in
 * capitals) and the ones it counts row by row (two filters, a search), against count(*).
 */
export async function expectListTotalsExact(
  app: FastifyInstance,
  db: Database,
  divisions: string[],
  tourTypes: string[],
): Promise<void> {
  const expected = await countedTours(db);
  expect(await listTotal(app)).toBe(expected.all);
  expect(await listTotal(app, 'sort=title&limit=3')).toBe(expected.all);
  expect(await listTotal(app, 'page=999')).toBe(expected.all);
  for (const d of divisions) {
    expect(await listTotal(app, `division=${d}`)).toBe(expected.division(d));
    expect(await listTotal(app, `division=${d.toUpperCase()}&sort=-costFrom`)).toBe(expected.division(d));
    expect(await listTotal(app, `division=${d}&page=500&limit=2`)).toBe(expected.division(d));
    for (const ty of tourTypes) {
      expect(await listTotal(app, `division=${d}&tourType=${ty}`)).toBe(expected.both(d, ty));
    }
  }
  for (const ty of tourTypes) {
    expect(await listTotal(app, `tourType=${ty}`)).toBe(expected.tourType(ty));
    expect(await listTotal(app, `tourType=${ty}&page=200`)).toBe(expected.tourType(ty));
  }
}
