import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import { createUser } from '../helpers/factories.js';
import { buildPgliteApp } from '../helpers/pglite.js';
import { expectCountsExact, expectListTotalsExact, listTotal } from '../helpers/tour-counts.js';

/** The maintained tour counts (triggers on tours) on the embedded database, as test/catalogue/tour-counts. */

let dataDir: string;
let embedded: Awaited<ReturnType<typeof buildPgliteApp>>;
let divisions: string[];
let tourTypes: string[];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-pglite-counts-'));
  embedded = await buildPgliteApp(dataDir);
  await seedDemoCatalogue(embedded.database.db, embedded.app.ctx.storage, embedded.app.ctx.clock);
  const ids = async (table: 'divisions' | 'tour_types') =>
    (
      (await embedded.database.db.execute(sql.raw(`select id from ${table} order by name`))) as unknown as {
        rows: { id: string }[];
      }
    ).rows.map((r) => r.id);
  divisions = await ids('divisions');
  tourTypes = await ids('tour_types');
});
afterAll(async () => {
  await embedded?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('tour list totals on the embedded database', () => {
  it('match count(*) after the demo seed, creates, moves, deletes and bulk SQL', async () => {
    const { app, database } = embedded;
    const db = database.db;
    await expectCountsExact(db);
    await expectListTotalsExact(app, db, divisions, tourTypes);
    expect(await listTotal(app)).toBe(27);

    const admin = await createUser(app.ctx, { role: 'ADMIN' });
    const created = await Promise.all(
      Array.from({ length: 6 }, async (_, k) => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/tour/create',
          headers: admin.auth,
          payload: {
            title: `Embedded Counted ${k}`,
            costFrom: 900,
            startDate: '2031-05-01',
            endDate: '2031-05-02',
            division: divisions[k % 2],
            tourType: tourTypes[k % 3],
          },
        });
        expect(res.statusCode).toBe(201);
        return res.json().data._id as string;
      }),
    );
    await expectCountsExact(db);
    const moved = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${created[0]}`,
      headers: admin.auth,
      payload: { division: divisions[3], tourType: tourTypes[4] },
    });
    expect(moved.statusCode).toBe(200);
    for (const id of created.slice(1, 4)) {
      const res = await app.inject({ method: 'DELETE', url: `/api/v1/tour/${id}`, headers: admin.auth });
      expect(res.statusCode).toBe(200);
    }
    await expectCountsExact(db);
    await expectListTotalsExact(app, db, divisions, tourTypes);
    expect(await listTotal(app)).toBe(30);

    await db.execute(sql`update tours set tour_type_id = ${tourTypes[0]}::uuid where title like 'Embedded%'`);
    await db.execute(sql`delete from tours where id = ${created[4]}::uuid`);
    await expectCountsExact(db);
    await expectListTotalsExact(app, db, divisions, tourTypes);
  });
});
