import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import { multipart, pngImage } from '../helpers/catalogue.js';
import { createUser } from '../helpers/factories.js';
import { buildPgliteApp } from '../helpers/pglite.js';

let dataDir: string;
let embedded: Awaited<ReturnType<typeof buildPgliteApp>>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-pglite-catalogue-'));
  embedded = await buildPgliteApp(dataDir);
});
afterAll(async () => {
  await embedded?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('catalogue on the embedded database', () => {
  it('loads the demo catalogue and answers lists, search and filters', async () => {
    const { app } = embedded;
    expect(await seedDemoCatalogue(embedded.database.db, app.ctx.storage, app.ctx.clock)).toBe(27);
    expect(await seedDemoCatalogue(embedded.database.db, app.ctx.storage, app.ctx.clock)).toBe(0);

    const list = (await app.inject({ method: 'GET', url: '/api/v1/tour?limit=5' })).json();
    expect(list.data).toHaveLength(5);
    expect(list.meta).toMatchObject({ total: 27, totalPage: 6 });
    // The front page opens on the past trips and their reviews.
    expect(list.data[0].rating).toEqual({ average: 4.5, count: 2 });
    const reviews = (
      await app.inject({ method: 'GET', url: `/api/v1/tour/${list.data[0]._id}/reviews` })
    ).json();
    expect(reviews.meta).toMatchObject({ total: 2, average: 4.5, count: 2 });

    const search = (await app.inject({ method: 'GET', url: "/api/v1/tour?searchTerm=cox's" })).json();
    expect(search.data.map((x: { title: string }) => x.title)).toEqual(["Cox's Bazar Beach Escape"]);

    const types = (
      await app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?fields=_id,name' })
    ).json();
    const adventure = types.data.data.find((x: { name: string }) => x.name === 'Adventure');
    const filtered = (
      await app.inject({ method: 'GET', url: `/api/v1/tour?tourType=${adventure._id}` })
    ).json();
    expect(filtered.meta.total).toBeGreaterThan(0);
    for (const tour of filtered.data) expect(tour.tourType).toBe(adventure._id);
  });

  it('creates a tour with images through multipart and serves it by slug', async () => {
    const { app } = embedded;
    const admin = await createUser(app.ctx, { role: 'ADMIN' });
    const division = (await app.inject({ method: 'GET', url: '/api/v1/division?name=Khulna' })).json()
      .data[0];
    const type = (
      await app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?name=River%20Cruise' })
    ).json().data.data[0];
    const form = await multipart(
      {
        title: 'Rupsha River Evening',
        costFrom: 1200,
        startDate: '2030-01-05',
        endDate: '2030-01-05',
        division: division._id,
        tourType: type._id,
      },
      [{ field: 'files', content: pngImage(3) }],
    );
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/tour/create',
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(created.statusCode).toBe(201);
    const bySlug = await app.inject({ method: 'GET', url: '/api/v1/tour/rupsha-river-evening' });
    expect(bySlug.json().data).toMatchObject({
      costFrom: 1200,
      division: division._id,
      images: [expect.any(String)],
    });
  });
});
