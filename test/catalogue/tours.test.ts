import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, departures } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import type { TestTour } from '../helpers/catalogue.js';
import {
  createDivision,
  createTour,
  createTourType,
  multipart,
  pngImage,
  storedImageFiles,
} from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
let divisionId: string;
let tourTypeId: string;
const MISSING_ID = '01890a5d-ac96-774b-bcce-b302099a8057';
// Tour dates in a year that is always ahead of the app's clock (the real one here), whatever day the tests run.
const YEAR = new Date().getUTCFullYear() + 2;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  user = await createUser(t.ctx, { role: 'USER' });
  divisionId = (await createDivision(t.ctx, { name: 'Sylhet' })).id;
  tourTypeId = (await createTourType(t.ctx, { name: 'Nature' })).id;
});
afterAll(() => t.close());

/** The JSON a legacy admin form sends (RF AddTour). */
const tourJson = (overrides: Record<string, unknown> = {}) => ({
  title: 'Ratargul Swamp Forest',
  description: 'Boat ride through a flooded forest',
  location: 'Sylhet',
  departureLocation: 'Dhaka',
  arrivalLocation: 'Sylhet',
  costFrom: 1500.5,
  startDate: `${YEAR}-01-10T00:00:00+06:00`,
  endDate: `${YEAR}-01-12T00:00:00+06:00`,
  included: ['Boat'],
  excluded: [],
  amenities: ['Life jackets'],
  tourPlan: ['Day 1: Ratargul', 'Day 2: Jaflong'],
  maxGuest: 20,
  minAge: 5,
  division: divisionId,
  tourType: tourTypeId,
  ...overrides,
});

const fileName = (url: string) => url.split('/').pop()!;

async function createByApi(body: Record<string, unknown>, files: Buffer[] = []) {
  const form = await multipart(
    body,
    files.map((content, i) => ({ field: 'files', content, filename: `photo-${i}.png` })),
  );
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/tour/create',
    headers: { ...admin.auth, ...form.headers },
    payload: form.payload,
  });
}

const postJson = (body: unknown, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'POST', url: '/api/v1/tour/create', headers, payload: body as object });
const patchJson = (id: string, body: unknown, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/tour/${id}`, headers, payload: body as object });

describe('POST /tour/create', () => {
  it('creates a tour from multipart data + two files and answers 201', async () => {
    const res = await createByApi(tourJson(), [pngImage(1), pngImage(2)]);
    expect(res.statusCode).toBe(201);
    const { data } = res.json();
    expect(data).toMatchObject({
      slug: 'ratargul-swamp-forest',
      title: 'Ratargul Swamp Forest',
      costFrom: 1500.5,
      maxGuest: 20,
      minAge: 5,
      availableSeats: 20,
      division: divisionId,
      tourType: tourTypeId,
      startDate: `${YEAR}-01-09T18:00:00.000Z`,
      endDate: `${YEAR}-01-11T18:00:00.000Z`,
      excluded: [],
    });
    expect(data.images).toHaveLength(2);
    for (const url of data.images) {
      expect(url).toMatch(/^http:\/\/api\.test\.local\/uploads\/images\/[\w-]+\.png$/);
      expect(await storedImageFiles(t.dataDir)).toContain(fileName(url));
    }
  });

  it('creates a tour from JSON with every array present', async () => {
    const res = await postJson(tourJson({ title: 'JSON Only', included: undefined, tourPlan: undefined }));
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({
      images: [],
      included: [],
      tourPlan: [],
      amenities: ['Life jackets'],
    });
  });

  it('drops blank list items a form sends instead of refusing them', async () => {
    const res = await postJson(
      tourJson({ title: 'Blank Rows', included: ['Boat', ' ', ''], excluded: [''] }),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ included: ['Boat'], excluded: [] });
  });

  it('gives a tour titled like a static route a slug that does not shadow it', async () => {
    const res = await postJson(tourJson({ title: 'Tour Types' }));
    expect(res.statusCode).toBe(201);
    expect(res.json().data.slug).toBe('tour-types-2');
  });

  it.each([
    ['endDate', { endDate: `${YEAR}-01-09T00:00:00+06:00` }],
    ['startDate', { startDate: 'next tuesday' }],
    ['startDate', { startDate: '2027-02-30' }],
    ['costFrom', { costFrom: -1 }],
    ['costFrom', { costFrom: 10.555 }],
    ['costFrom', { costFrom: '1500' }],
    ['maxGuest', { maxGuest: 2.5 }],
    ['maxGuest', { maxGuest: -3 }],
    ['minAge', { minAge: -1 }],
    ['title', { title: '' }],
    ['division', { division: 'not-an-id' }],
    ['tourType', { tourType: undefined }],
    ['included', { included: 'Boat' }],
  ])('answers 400 naming %s for bad input', async (field, override) => {
    const res = await postJson(tourJson(override));
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('answers 400 naming division or tourType when they do not exist', async () => {
    const noDivision = await postJson(tourJson({ division: MISSING_ID }));
    expect(noDivision.statusCode).toBe(400);
    expect(noDivision.json().errorSources[0].path).toBe('division');
    const noType = await postJson(tourJson({ tourType: MISSING_ID }));
    expect(noType.statusCode).toBe(400);
    expect(noType.json().errorSources[0].path).toBe('tourType');
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    expect((await postJson(tourJson(), {})).statusCode).toBe(401);
    expect((await postJson(tourJson(), user.auth)).statusCode).toBe(403);
  });
});

describe('GET /tour', () => {
  it('returns a flat array whose items carry every field a legacy client reads', async () => {
    await createTour(t.ctx, { division: divisionId, tourType: tourTypeId });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Array.isArray(body.data)).toBe(true);
    expect(body.meta).toMatchObject({ page: 1, limit: 10, totalPage: expect.any(Number) });
    for (const tour of body.data) {
      for (const key of ['images', 'amenities', 'included', 'excluded', 'tourPlan']) {
        expect(Array.isArray(tour[key])).toBe(true);
      }
      expect(typeof tour.division).toBe('string');
      expect(typeof tour.tourType).toBe('string');
      expect(Date.parse(tour.startDate)).not.toBeNaN();
      expect(Date.parse(tour.endDate)).not.toBeNaN();
      for (const key of ['_id', 'slug', 'title', 'description', 'costFrom', 'maxGuest', 'minAge']) {
        expect(tour).toHaveProperty(key);
      }
      for (const key of ['departureLocation', 'arrivalLocation', 'location', 'availableSeats']) {
        expect(tour).toHaveProperty(key);
      }
    }
  });

  it('filters by division and tourType, and by _id', async () => {
    const otherDivision = await createDivision(t.ctx);
    const otherType = await createTourType(t.ctx);
    const match = await createTour(t.ctx, { division: otherDivision.id, tourType: otherType.id });
    await createTour(t.ctx, { division: otherDivision.id });
    await createTour(t.ctx, { tourType: otherType.id });

    const both = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${otherDivision.id}&tourType=${otherType.id}`,
    });
    expect(both.json().data.map((x: { _id: string }) => x._id)).toEqual([match.id]);
    expect(both.json().meta.total).toBe(1);

    const byId = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${match.id}` });
    expect(byId.json().data).toHaveLength(1);
    expect(byId.json().data[0]._id).toBe(match.id);
  });

  it('paginates with page and limit and reports the filtered total', async () => {
    const division = await createDivision(t.ctx);
    for (let i = 0; i < 11; i++) await createTour(t.ctx, { division: division.id, tourType: tourTypeId });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${division.id}&page=2&limit=9`,
    });
    expect(res.json().meta).toEqual({ page: 2, limit: 9, total: 11, totalPage: 2 });
    expect(res.json().data).toHaveLength(2);
  });

  it('clamps limit=1000 to 100 and projects fields', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tour?limit=1000&fields=_id,title,password',
    });
    expect(res.json().meta.limit).toBe(100);
    for (const item of res.json().data) expect(Object.keys(item).sort()).toEqual(['_id', 'title']);
  });

  it('sorts by costFrom ascending and descending', async () => {
    const division = await createDivision(t.ctx);
    for (const cost of [300_00, 100_00, 200_00]) {
      await createTour(t.ctx, { division: division.id, tourType: tourTypeId, costFromMinor: cost });
    }
    const asc = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${division.id}&sort=costFrom`,
    });
    expect(asc.json().data.map((x: { costFrom: number }) => x.costFrom)).toEqual([100, 200, 300]);
    const desc = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${division.id}&sort=-costFrom`,
    });
    expect(desc.json().data.map((x: { costFrom: number }) => x.costFrom)).toEqual([300, 200, 100]);
  });

  it('answers every sort shape in order with the exact total, beyond the shapes kept as prepared statements', async () => {
    const division = await createDivision(t.ctx);
    const day = 24 * 3600 * 1000;
    const made: TestTour[] = [];
    for (const [k, title] of ['Bravo', 'Alpha', 'Charlie'].entries()) {
      made.push(
        await createTour(t.ctx, {
          title,
          division: division.id,
          tourType: tourTypeId,
          costFromMinor: [200_00, 300_00, 100_00][k],
          startDate: new Date(Date.now() + [3, 1, 2][k]! * day),
        }),
      );
    }
    const key = {
      title: (x: { title: string }) => x.title,
      costFrom: (x: { costFromMinor: number | null }) => x.costFromMinor!,
      startDate: (x: { startDate: Date | null }) => x.startDate!.getTime(),
      createdAt: (x: { createdAt: Date }) => x.createdAt.getTime(),
    };
    const tokens = Object.keys(key).flatMap((f) => [f, `-${f}`]);
    // 64 shapes: past the cap, lists are built per request and must answer the same.
    for (const first of tokens) {
      for (const second of tokens) {
        const field = first.replace('-', '') as keyof typeof key;
        const by = key[field] as (x: TestTour) => string | number;
        const expected = [...made]
          .sort((a, b) => (by(a) < by(b) ? -1 : by(a) > by(b) ? 1 : 0) * (first.startsWith('-') ? -1 : 1))
          .map((x) => x.id);
        const res = await t.app.inject({
          method: 'GET',
          url: `/api/v1/tour?division=${division.id}&sort=${first},${second}`,
        });
        expect(
          res.json().data.map((x: { _id: string }) => x._id),
          `${first},${second}`,
        ).toEqual(expected);
        expect(res.json().meta.total).toBe(3);
      }
    }
  });

  it('treats %, _, backslash, quotes and regex characters in searchTerm as plain text', async () => {
    const division = await createDivision(t.ctx);
    const titles = [
      '100% Fun',
      'Snake_Case Trail',
      'Back\\slash Walk',
      "Rock 'n' Roll",
      'Price (BDT) [x]*',
      'Plain',
    ];
    for (const title of titles)
      await createTour(t.ctx, { title, division: division.id, tourType: tourTypeId });
    const search = async (term: string) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/tour?division=${division.id}&searchTerm=${encodeURIComponent(term)}`,
      });
      expect(res.statusCode).toBe(200);
      return res.json().data.map((x: { title: string }) => x.title);
    };
    expect(await search('%')).toEqual(['100% Fun']);
    expect(await search('_')).toEqual(['Snake_Case Trail']);
    expect(await search('\\')).toEqual(['Back\\slash Walk']);
    expect(await search("'n'")).toEqual(["Rock 'n' Roll"]);
    expect(await search('(bdt) [x]*')).toEqual(['Price (BDT) [x]*']);
    expect(await search('.*')).toEqual([]);
    expect(await search('"')).toEqual([]);
  });

  it('searches description and location too', async () => {
    const division = await createDivision(t.ctx);
    await createTour(t.ctx, {
      division: division.id,
      tourType: tourTypeId,
      description: 'See the HOOLOCK gibbons',
    });
    await createTour(t.ctx, { division: division.id, tourType: tourTypeId, location: 'Lawachara' });
    const byDescription = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${division.id}&searchTerm=hoolock`,
    });
    expect(byDescription.json().data).toHaveLength(1);
    const byLocation = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${division.id}&searchTerm=lawa`,
    });
    expect(byLocation.json().data).toHaveLength(1);
  });

  it('reports availableSeats from seats booked, and null for unlimited tours', async () => {
    const limited = await createTour(t.ctx, { maxGuest: 12 });
    await t.ctx.db.update(departures).set({ seatsBooked: 5 }).where(eq(departures.id, limited.departureId));
    const unlimited = await createTour(t.ctx, { maxGuest: null });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${limited.id}` });
    expect(res.json().data[0]).toMatchObject({ maxGuest: 12, availableSeats: 7 });
    const res2 = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${unlimited.id}` });
    expect(res2.json().data[0]).toMatchObject({ maxGuest: null, availableSeats: null });
  });

  it('answers 400 naming a malformed id filter', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour?division=abc' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('division');
  });
});

describe('GET /tour/:slug', () => {
  it('returns the tour flat with division and tourType as ids', async () => {
    const tour = await createTour(t.ctx, { title: 'Srimangal Tea Garden' });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour/${tour.slug}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      _id: tour.id,
      title: 'Srimangal Tea Garden',
      division: tour.divisionId,
      tourType: tour.tourTypeId,
    });
  });

  it('answers 404 for an unknown slug', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour/no-such-tour' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });
});

describe('PATCH /tour/:id', () => {
  it('changes fields, the division and the slug with the title', async () => {
    const tour = await createTour(t.ctx, { title: 'Old Title' });
    const newDivision = await createDivision(t.ctx);
    const res = await patchJson(tour.id, { title: 'New Title', costFrom: 99.99, division: newDivision.id });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      title: 'New Title',
      slug: 'new-title',
      costFrom: 99.99,
      division: newDivision.id,
    });
  });

  it('keeps the slug when the title is unchanged', async () => {
    const tour = await createTour(t.ctx, { title: 'Stable Slug' });
    const res = await patchJson(tour.id, { title: 'Stable Slug', minAge: 3 });
    expect(res.json().data.slug).toBe(tour.slug);
  });

  it('never drops images on an update without files', async () => {
    const created = (await createByApi(tourJson({ title: 'Keeps Images' }), [pngImage(5)])).json().data;
    const json = await patchJson(created._id, { description: 'changed' });
    expect(json.json().data.images).toEqual(created.images);
    const form = await multipart({ description: 'changed again' });
    const viaMultipart = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${created._id}`,
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(viaMultipart.json().data.images).toEqual(created.images);
  });

  it('keeps the listed images, adds new files and deletes the dropped file', async () => {
    const created = (await createByApi(tourJson({ title: 'Gallery' }), [pngImage(6), pngImage(7)])).json()
      .data;
    const [keep, drop] = created.images;
    const form = await multipart({ images: [keep] }, [{ field: 'files', content: pngImage(8) }]);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${created._id}`,
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(200);
    const images: string[] = res.json().data.images;
    expect(images).toHaveLength(2);
    expect(images[0]).toBe(keep);
    const files = await storedImageFiles(t.dataDir);
    expect(files).not.toContain(fileName(drop));
    expect(files).toContain(fileName(images[1]!));
  });

  it('answers 400 when endDate would fall before the stored startDate', async () => {
    const tour = await createTour(t.ctx, { startDate: new Date(`${YEAR}-03-10T00:00:00Z`) });
    const res = await patchJson(tour.id, { endDate: `${YEAR}-03-01` });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('endDate');
  });

  it('answers 400 naming a division that does not exist', async () => {
    const tour = await createTour(t.ctx);
    const res = await patchJson(tour.id, { division: MISSING_ID });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('division');
  });

  it('answers 409 when maxGuest would fall below the seats already booked', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 10 });
    await t.ctx.db.update(departures).set({ seatsBooked: 6 }).where(eq(departures.id, tour.departureId));
    const res = await patchJson(tour.id, { maxGuest: 5 });
    expect(res.statusCode).toBe(409);
    expect((await patchJson(tour.id, { maxGuest: 6 })).json().data.availableSeats).toBe(0);
  });

  it('answers 404 for an unknown id, 400 for a malformed one', async () => {
    expect((await patchJson(MISSING_ID, { title: 'X' })).statusCode).toBe(404);
    const bad = await patchJson('12', { title: 'X' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('id');
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    const tour = await createTour(t.ctx);
    expect((await patchJson(tour.id, { title: 'Hacked' }, {})).statusCode).toBe(401);
    expect((await patchJson(tour.id, { title: 'Hacked' }, user.auth)).statusCode).toBe(403);
  });
});

describe('DELETE /tour/:id', () => {
  const del = (id: string, headers: Record<string, string> = admin.auth) =>
    t.app.inject({ method: 'DELETE', url: `/api/v1/tour/${id}`, headers });

  async function book(tourId: string, status: 'PENDING' | 'COMPLETE' | 'CANCEL') {
    const [departure] = await t.ctx.db.select().from(departures).where(eq(departures.tourId, tourId));
    await t.ctx.db.insert(bookings).values({
      userId: user.id,
      tourId,
      departureId: departure!.id,
      status,
      guestCount: 1,
      unitPriceMinor: 100,
      amountMinor: 100,
      holdExpiresAt: new Date(Date.now() + 60_000),
      seatsHeld: status !== 'CANCEL',
    });
  }

  it('deletes a tour and its image files', async () => {
    const created = (await createByApi(tourJson({ title: 'Short Lived' }), [pngImage(9)])).json().data;
    const res = await del(created._id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    expect(await storedImageFiles(t.dataDir)).not.toContain(fileName(created.images[0]));
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/tour/${created.slug}` })).statusCode).toBe(404);
  });

  it('answers 409 while the tour has a pending or paid booking', async () => {
    for (const status of ['PENDING', 'COMPLETE'] as const) {
      const tour = await createTour(t.ctx);
      await book(tour.id, status);
      const res = await del(tour.id);
      expect(res.statusCode).toBe(409);
      expect(res.json().message).toMatch(/pending or paid/);
    }
  });

  it('answers 409 and keeps the booking history when only cancelled bookings remain', async () => {
    const tour = await createTour(t.ctx);
    await book(tour.id, 'CANCEL');
    const res = await del(tour.id);
    expect(res.statusCode).toBe(409);
    expect(await t.ctx.db.select().from(bookings).where(eq(bookings.tourId, tour.id))).toHaveLength(1);
  });

  it('answers 404 for an unknown id, 401 without a token and 403 for a USER', async () => {
    const tour = await createTour(t.ctx);
    expect((await del(MISSING_ID)).statusCode).toBe(404);
    expect((await del(tour.id, {})).statusCode).toBe(401);
    expect((await del(tour.id, user.auth)).statusCode).toBe(403);
  });
});

describe('slugs under concurrency', () => {
  it('gives two concurrent creates with the same title different slugs', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => postJson(tourJson({ title: 'Same Title Race' }))),
    );
    for (const res of results) expect(res.statusCode).toBe(201);
    const slugs = results.map((r) => r.json().data.slug);
    expect(new Set(slugs).size).toBe(4);
    expect(slugs).toContain('same-title-race');
    for (const slug of slugs) expect(slug).toMatch(/^same-title-race(-[a-z0-9]+)?$/);
  });
});
