import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createDivision, createTourType } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { expectCountsExact, expectListTotalsExact, listTotal } from '../helpers/tour-counts.js';

/*
 * GET /tour reads the total of every tour, one division and one tour type from counts kept by triggers
 * (tour_counts); other shapes count rows. Whatever writes the tours, the totals stay those of count(*).
 */

let t: TestApp;
let admin: TestUser;
let divisions: string[];
let tourTypes: string[];

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  divisions = [
    (await createDivision(t.ctx)).id,
    (await createDivision(t.ctx)).id,
    (await createDivision(t.ctx)).id,
  ];
  tourTypes = [(await createTourType(t.ctx)).id, (await createTourType(t.ctx)).id];
});
afterAll(() => t.close());

const body = (k: number, division: string, tourType: string) => ({
  title: `Counted Tour ${k}`,
  description: k % 2 === 0 ? 'River trip' : 'Hill trek',
  costFrom: 1000 + k,
  startDate: '2031-03-01',
  endDate: '2031-03-03',
  division,
  tourType,
});

async function create(k: number, division: string, tourType: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tour/create',
    headers: admin.auth,
    payload: body(k, division, tourType),
  });
  expect(res.statusCode).toBe(201);
  return res.json().data._id;
}

const patch = (id: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/tour/${id}`, headers: admin.auth, payload });
const remove = (id: string) =>
  t.app.inject({ method: 'DELETE', url: `/api/v1/tour/${id}`, headers: admin.auth });

describe('GET /tour totals from the maintained counts', () => {
  it('starts empty: every total is 0, also for an unknown division', async () => {
    expect(await listTotal(t.app)).toBe(0);
    expect(await listTotal(t.app, `division=${divisions[0]}`)).toBe(0);
    expect(await listTotal(t.app, 'division=0190a0c0-0000-7000-8000-000000000000')).toBe(0);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
  });

  it('stays exact through create, moves to another division and type, other updates and delete', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 5; k++) ids.push(await create(k, divisions[k % 2]!, tourTypes[k % 2]!));
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
    expect(await listTotal(t.app, `division=${divisions[0]}`)).toBe(3);

    // Division only, tour type only, both, then an update that moves nothing.
    expect((await patch(ids[0]!, { division: divisions[2] })).statusCode).toBe(200);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
    expect(await listTotal(t.app, `division=${divisions[2]}`)).toBe(1);
    expect((await patch(ids[1]!, { tourType: tourTypes[0] })).statusCode).toBe(200);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
    expect((await patch(ids[2]!, { division: divisions[1], tourType: tourTypes[1] })).statusCode).toBe(200);
    expect((await patch(ids[3]!, { title: 'Renamed', division: divisions[1] })).statusCode).toBe(200);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);

    // A move refused half-way (unknown tour type) changes no count.
    const refused = await patch(ids[4]!, {
      division: divisions[2],
      tourType: '0190a0c0-0000-7000-8000-000000000000',
    });
    expect(refused.statusCode).toBe(400);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);

    for (const id of ids.slice(0, 3)) expect((await remove(id)).statusCode).toBe(200);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
    expect(await listTotal(t.app)).toBe(2);
    await expectCountsExact(t.ctx.db);
  });

  it('counts searches, departure ranges and two filters row by row, as before', async () => {
    const expected = (
      (await t.ctx.db.execute(
        sql`select count(*)::int as n from tours where description ilike '%river%'`,
      )) as unknown as {
        rows: { n: number }[];
      }
    ).rows[0]!.n;
    expect(await listTotal(t.app, 'searchTerm=river')).toBe(expected);
    expect(await listTotal(t.app, `division=${divisions[1]}&searchTerm=river`)).toBeLessThanOrEqual(expected);
    const all = await listTotal(t.app);
    expect(await listTotal(t.app, 'departureFrom=2031-02-01&departureTo=2031-03-31')).toBe(all);
    expect(await listTotal(t.app, 'departureFrom=2031-04-01')).toBe(0);
  });

  it('keeps the counts equal to count(*) after a burst of parallel creates and deletes', async () => {
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, k) => create(100 + k, divisions[k % 3]!, tourTypes[k % 2]!)),
    );
    await expectCountsExact(t.ctx.db);
    const results = await Promise.all([
      ...created.filter((_, k) => k % 2 === 0).map((id) => remove(id)),
      ...created
        .filter((_, k) => k % 2 === 1)
        .map((id, k) => patch(id, { division: divisions[(k + 1) % 3], tourType: tourTypes[k % 2] })),
      ...Array.from({ length: 6 }, (_, k) => create(200 + k, divisions[k % 3]!, tourTypes[(k + 1) % 2]!)),
    ]);
    for (const res of results) expect([200, 201]).toContain(typeof res === 'string' ? 201 : res.statusCode);
    await expectCountsExact(t.ctx.db);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
  });

  it('is kept by any writer: bulk SQL inserts, moves and deletes outside the app', async () => {
    await t.ctx.db.execute(sql`insert into tours (id, title, slug, division_id, tour_type_id)
      select gen_random_uuid(), 'Bulk ' || i, 'bulk-counted-' || i, ${divisions[2]}::uuid, ${tourTypes[0]}::uuid
      from generate_series(1, 40) as i`);
    await expectCountsExact(t.ctx.db);
    await t.ctx.db.execute(sql`update tours set division_id = ${divisions[0]}::uuid
      where slug like 'bulk-counted-%' and right(slug, 1) in ('1', '3')`);
    await t.ctx.db.execute(sql`update tours set rating_sum = rating_sum where slug like 'bulk-counted-%'`);
    await expectCountsExact(t.ctx.db);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
    await t.ctx.db.execute(sql`delete from tours where slug like 'bulk-counted-%'`);
    await expectCountsExact(t.ctx.db);
    await expectListTotalsExact(t.app, t.ctx.db, divisions, tourTypes);
  });
});
