import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createDivision, createTour, multipart, pngImage, storedImageFiles } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
const MISSING_ID = '01890a5d-ac96-774b-bcce-b302099a8057';

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  user = await createUser(t.ctx, { role: 'USER' });
});
afterAll(() => t.close());

const post = (body: unknown, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'POST', url: '/api/v1/division/create', headers, payload: body as object });

describe('POST /division/create', () => {
  it('creates a division from JSON with a readable slug and answers 201', async () => {
    const res = await post({ name: 'Sylhet', description: 'Tea gardens' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 201, success: true, message: 'Division created' });
    expect(body.data).toMatchObject({ name: 'Sylhet', slug: 'sylhet-division', description: 'Tea gardens' });
    expect(body.data._id).toEqual(expect.any(String));
    expect(Date.parse(body.data.createdAt)).not.toBeNaN();
    expect(Date.parse(body.data.updatedAt)).not.toBeNaN();
  });

  it('accepts multipart data + file and stores the thumbnail as a public absolute URL', async () => {
    const form = await multipart({ name: 'Khulna', description: 'Mangroves' }, [
      { field: 'file', content: pngImage() },
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/division/create',
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(201);
    const { data } = res.json();
    expect(data).toMatchObject({ name: 'Khulna', slug: 'khulna-division' });
    expect(data.thumbnail).toMatch(/^http:\/\/api\.test\.local\/uploads\/images\/[\w-]+\.png$/);
    const image = await t.app.inject({ method: 'GET', url: new URL(data.thumbnail).pathname });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.equals(pngImage())).toBe(true);
  });

  it('transliterates accents and punctuation into an ASCII slug', async () => {
    const res = await post({ name: "Cox's Bazár & Teknaf!" });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.slug).toBe('coxs-bazar-and-teknaf-division');
  });

  it('refuses a duplicate name (any case) with 409 naming the field', async () => {
    await post({ name: 'Rangpur' });
    const res = await post({ name: 'RANGPUR' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, code: 'CONFLICT' });
    expect(res.json().errorSources[0].path).toBe('name');
  });

  it('answers 400 naming the field for a missing name or a malformed data field', async () => {
    const missing = await post({ description: 'no name' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errorSources.map((e: { path: string }) => e.path)).toContain('name');

    const form = await multipart('{not json');
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/division/create',
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errorSources[0].path).toBe('data');
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    expect((await post({ name: 'Nowhere' }, {})).statusCode).toBe(401);
    expect((await post({ name: 'Nowhere' }, user.auth)).statusCode).toBe(403);
  });
});

describe('GET /division', () => {
  it('returns a flat array with meta at the top level', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/division' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Array.isArray(body.data)).toBe(true);
    expect(body.meta).toEqual({
      page: 1,
      limit: 10,
      total: expect.any(Number),
      totalPage: expect.any(Number),
    });
    for (const item of body.data) {
      expect(Object.keys(item).sort()).toEqual(
        ['_id', 'createdAt', 'description', 'name', 'slug', 'thumbnail', 'updatedAt'].sort(),
      );
    }
  });

  it('filters by _id and projects fields, as the tour details page asks', async () => {
    const division = await createDivision(t.ctx, { name: 'Mymensingh' });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/division?_id=${division.id}&fields=name`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([{ _id: division.id, name: 'Mymensingh' }]);
    expect(res.json().meta.total).toBe(1);
  });

  it('clamps limit=1000 to 100 and keeps only _id and name with fields=_id,name', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/division?limit=1000&fields=_id,name' });
    expect(res.statusCode).toBe(200);
    expect(res.json().meta.limit).toBe(100);
    for (const item of res.json().data) expect(Object.keys(item).sort()).toEqual(['_id', 'name']);
  });

  it('searches name and description case-insensitively and counts only matches in meta.total', async () => {
    await createDivision(t.ctx, { name: 'Barishal', description: 'Floating GUAVA markets' });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/division?searchTerm=guava' });
    expect(res.json().data.map((d: { name: string }) => d.name)).toEqual(['Barishal']);
    expect(res.json().meta).toMatchObject({ total: 1, totalPage: 1 });
  });

  it('answers 400 for a malformed _id filter or page', async () => {
    const badId = await t.app.inject({ method: 'GET', url: '/api/v1/division?_id=not-an-id' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errorSources[0].path).toBe('_id');
    const badPage = await t.app.inject({ method: 'GET', url: '/api/v1/division?page=0' });
    expect(badPage.statusCode).toBe(400);
    expect(badPage.json().errorSources[0].path).toBe('page');
  });
});

describe('GET /division/:slug', () => {
  it('returns the division flat', async () => {
    const division = await createDivision(t.ctx, { name: 'Rajshahi' });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/division/${division.slug}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ _id: division.id, name: 'Rajshahi', slug: 'rajshahi-division' });
  });

  it('answers 404 for an unknown slug', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/division/atlantis-division' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });
});

describe('PATCH /division/:id', () => {
  const patch = (id: string, body: unknown, headers: Record<string, string> = admin.auth) =>
    t.app.inject({ method: 'PATCH', url: `/api/v1/division/${id}`, headers, payload: body as object });

  it('updates from JSON, ignoring a serialised browser File, and moves the slug with the name', async () => {
    const division = await createDivision(t.ctx, { name: 'Chattogram' });
    const res = await patch(division.id, { name: 'Chattogram Hills', description: 'x', file: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      name: 'Chattogram Hills',
      description: 'x',
      slug: 'chattogram-hills-division',
    });
  });

  it('keeps the slug when the name does not change', async () => {
    const division = await createDivision(t.ctx, { name: 'Dhaka' });
    const res = await patch(division.id, { name: 'dhaka', description: 'Capital' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.slug).toBe(division.slug);
  });

  it('replaces the thumbnail through multipart and deletes the old file', async () => {
    const createForm = await multipart({ name: 'Comilla' }, [{ field: 'file', content: pngImage(2) }]);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/division/create',
      headers: { ...admin.auth, ...createForm.headers },
      payload: createForm.payload,
    });
    const old = created.json().data;
    const oldFile = old.thumbnail.split('/').pop();
    expect(await storedImageFiles(t.dataDir)).toContain(oldFile);

    const form = await multipart({ description: 'New picture' }, [{ field: 'file', content: pngImage(3) }]);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/division/${old._id}`,
      headers: { ...admin.auth, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(200);
    const updated = res.json().data;
    expect(updated.thumbnail).not.toBe(old.thumbnail);
    expect(updated.slug).toBe(old.slug);
    const files = await storedImageFiles(t.dataDir);
    expect(files).not.toContain(oldFile);
    expect(files).toContain(updated.thumbnail.split('/').pop());
  });

  it('answers 409 when renaming onto another division name', async () => {
    await createDivision(t.ctx, { name: 'Gazipur' });
    const division = await createDivision(t.ctx, { name: 'Tangail' });
    const res = await patch(division.id, { name: 'gazipur' });
    expect(res.statusCode).toBe(409);
    expect(res.json().errorSources[0].path).toBe('name');
  });

  it('answers 400 for an empty name or a malformed id, 404 for an unknown id', async () => {
    const division = await createDivision(t.ctx);
    const empty = await patch(division.id, { name: '  ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errorSources[0].path).toBe('name');
    const malformed = await patch('123', { name: 'X' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errorSources[0].path).toBe('id');
    expect((await patch(MISSING_ID, { name: 'X' })).statusCode).toBe(404);
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    const division = await createDivision(t.ctx);
    expect((await patch(division.id, { name: 'Hacked' }, {})).statusCode).toBe(401);
    expect((await patch(division.id, { name: 'Hacked' }, user.auth)).statusCode).toBe(403);
  });
});

describe('DELETE /division/:id', () => {
  const del = (id: string, headers: Record<string, string> = admin.auth) =>
    t.app.inject({ method: 'DELETE', url: `/api/v1/division/${id}`, headers });

  it('deletes a division without tours, and its thumbnail file', async () => {
    const form = await multipart({ name: 'Bogura' }, [{ field: 'file', content: pngImage(4) }]);
    const created = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/division/create',
        headers: { ...admin.auth, ...form.headers },
        payload: form.payload,
      })
    ).json().data;
    const res = await del(created._id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    expect(await storedImageFiles(t.dataDir)).not.toContain(created.thumbnail.split('/').pop());
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/division/${created.slug}` })).statusCode).toBe(
      404,
    );
  });

  it('answers 409 while tours reference the division', async () => {
    const tour = await createTour(t.ctx);
    const res = await del(tour.divisionId);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CONFLICT');
  });

  it('answers 404 for an unknown id, 400 for a malformed one', async () => {
    expect((await del(MISSING_ID)).statusCode).toBe(404);
    expect((await del('nope')).statusCode).toBe(400);
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    const division = await createDivision(t.ctx);
    expect((await del(division.id, {})).statusCode).toBe(401);
    expect((await del(division.id, user.auth)).statusCode).toBe(403);
  });
});
