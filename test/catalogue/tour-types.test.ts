import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, createTourType } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
const MISSING_ID = '01890a5d-ac96-774b-bcce-b302099a8057';

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'SUPER_ADMIN' });
  user = await createUser(t.ctx, { role: 'USER' });
});
afterAll(() => t.close());

const create = (body: unknown, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'POST', url: '/api/v1/tour/create-tour-type', headers, payload: body as object });

describe('POST /tour/create-tour-type', () => {
  it('creates a tour type and answers 201', async () => {
    const res = await create({ name: 'Adventure' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ statusCode: 201, success: true, data: { name: 'Adventure' } });
    expect(res.json().data._id).toEqual(expect.any(String));
  });

  it('refuses a duplicate name in any case with 409', async () => {
    await create({ name: 'Beach' });
    const res = await create({ name: ' beach ' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, code: 'CONFLICT' });
    expect(res.json().errorSources[0].path).toBe('name');
  });

  it('answers 400 naming name when it is missing or blank', async () => {
    for (const body of [{}, { name: '' }, { name: 42 }]) {
      const res = await create(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources[0].path).toBe('name');
    }
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    expect((await create({ name: 'Sneaky' }, {})).statusCode).toBe(401);
    expect((await create({ name: 'Sneaky' }, user.auth)).statusCode).toBe(403);
  });
});

describe('GET /tour/tour-types', () => {
  it('answers the nested legacy shape data.data and data.meta', async () => {
    await createTourType(t.ctx, { name: 'Heritage' });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?page=1&limit=10' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.meta).toBeUndefined();
    expect(Array.isArray(body.data.data)).toBe(true);
    expect(body.data.meta).toMatchObject({ page: 1, limit: 10, totalPage: expect.any(Number) });
    expect(body.data.data[0]).toEqual({
      _id: expect.any(String),
      name: expect.any(String),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('serves limit=1000&fields=_id,name clamped and projected', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tour/tour-types?limit=1000&fields=_id,name',
    });
    expect(res.json().data.meta.limit).toBe(100);
    for (const item of res.json().data.data) expect(Object.keys(item).sort()).toEqual(['_id', 'name']);
  });

  it('filters by _id with fields=name', async () => {
    const type = await createTourType(t.ctx, { name: 'Cruise' });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour/tour-types?_id=${type.id}&fields=name`,
    });
    expect(res.json().data).toEqual({
      data: [{ _id: type.id, name: 'Cruise' }],
      meta: { page: 1, limit: 10, total: 1, totalPage: 1 },
    });
  });

  it('searches by name as plain text', async () => {
    await createTourType(t.ctx, { name: 'Hill Trekking' });
    const hit = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?searchTerm=TREK' });
    expect(hit.json().data.data.map((x: { name: string }) => x.name)).toEqual(['Hill Trekking']);
    const regex = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?searchTerm=.*' });
    expect(regex.json().data.data).toEqual([]);
  });

  it('answers 400 for a malformed _id filter', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?_id=1' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('_id');
  });
});

describe('GET /tour/tour-types/:id', () => {
  it('returns one tour type', async () => {
    const type = await createTourType(t.ctx, { name: 'Wildlife' });
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour/tour-types/${type.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ _id: type.id, name: 'Wildlife' });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/tour/tour-types/${MISSING_ID}` })).statusCode,
    ).toBe(404);
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types/xyz' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('id');
  });
});

describe('PATCH /tour/tour-types/:id', () => {
  const patch = (id: string, body: unknown, headers: Record<string, string> = admin.auth) =>
    t.app.inject({ method: 'PATCH', url: `/api/v1/tour/tour-types/${id}`, headers, payload: body as object });

  it('renames a tour type', async () => {
    const type = await createTourType(t.ctx, { name: 'Safari' });
    const res = await patch(type.id, { name: 'Jungle Safari' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ _id: type.id, name: 'Jungle Safari' });
  });

  it('answers 409 when the new name is taken, 400 for a blank name, 404 for an unknown id', async () => {
    await createTourType(t.ctx, { name: 'Camping' });
    const type = await createTourType(t.ctx, { name: 'Glamping' });
    expect((await patch(type.id, { name: 'CAMPING' })).statusCode).toBe(409);
    const blank = await patch(type.id, { name: '' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().errorSources[0].path).toBe('name');
    expect((await patch(MISSING_ID, { name: 'Whatever' })).statusCode).toBe(404);
  });

  it('answers 401 without a token and 403 for a USER', async () => {
    const type = await createTourType(t.ctx);
    expect((await patch(type.id, { name: 'X1' }, {})).statusCode).toBe(401);
    expect((await patch(type.id, { name: 'X1' }, user.auth)).statusCode).toBe(403);
  });
});

describe('DELETE /tour/tour-types/:id', () => {
  it('deletes a tour type and ignores a text/plain body holding the id', async () => {
    const type = await createTourType(t.ctx);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tour/tour-types/${type.id}`,
      headers: { ...admin.auth, 'content-type': 'text/plain' },
      payload: type.id,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/tour/tour-types/${type.id}` })).statusCode,
    ).toBe(404);
  });

  it('ignores a body that is not even valid for its declared type', async () => {
    const type = await createTourType(t.ctx);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tour/tour-types/${type.id}`,
      headers: { ...admin.auth, 'content-type': 'application/json' },
      payload: type.id,
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 409 while tours use the tour type', async () => {
    const tour = await createTour(t.ctx);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tour/tour-types/${tour.tourTypeId}`,
      headers: admin.auth,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CONFLICT');
  });

  it('answers 404 for an unknown id, 401 without a token and 403 for a USER', async () => {
    const type = await createTourType(t.ctx);
    const del = (id: string, headers: Record<string, string>) =>
      t.app.inject({ method: 'DELETE', url: `/api/v1/tour/tour-types/${id}`, headers });
    expect((await del(MISSING_ID, admin.auth)).statusCode).toBe(404);
    expect((await del(type.id, {})).statusCode).toBe(401);
    expect((await del(type.id, user.auth)).statusCode).toBe(403);
  });
});

describe('DELETE /tour/tour-types/:id with a large body', () => {
  /** A body of `total` bytes made only as it is read, counting what was read. */
  function countedBody(total: number) {
    const counted = { read: 0 };
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const stream = new Readable({
      read() {
        if (counted.read >= total) return void this.push(null);
        counted.read += chunk.length;
        this.push(chunk);
      },
    });
    return { stream, counted };
  }

  it('answers 401 and 403 before reading the body', async () => {
    const type = await createTourType(t.ctx);
    for (const [headers, status] of [
      [{}, 401],
      [user.auth, 403],
    ] as const) {
      const { stream, counted } = countedBody(256 * 1024 * 1024);
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/tour/tour-types/${type.id}`,
        headers: { ...headers, 'content-type': 'text/plain' },
        payload: stream,
      });
      expect(res.statusCode).toBe(status);
      expect(counted.read).toBeLessThan(t.ctx.config.bodyLimitBytes);
      stream.destroy();
    }
  });

  it('refuses a body over the body limit with 413 and keeps the tour type, with or without a length', async () => {
    const type = await createTourType(t.ctx);
    const limit = t.ctx.config.bodyLimitBytes;
    const { stream } = countedBody(limit * 8);
    for (const payload of [Buffer.alloc(limit + 1, 'x'), stream]) {
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/tour/tour-types/${type.id}`,
        headers: { ...admin.auth, 'content-type': 'text/plain' },
        payload,
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ success: false, statusCode: 413 });
      // The rest of the body is not waited for: the connection closes.
      expect(res.headers.connection).toBe('close');
    }
    stream.destroy();
    const kept = await t.app.inject({ method: 'GET', url: `/api/v1/tour/tour-types/${type.id}` });
    expect(kept.statusCode).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('documents every catalogue route', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/division/create',
        '/api/v1/division/{slug}',
        '/api/v1/division/{id}',
        '/api/v1/tour/create-tour-type',
        '/api/v1/tour/tour-types',
        '/api/v1/tour/tour-types/{id}',
        '/api/v1/tour/create',
        '/api/v1/tour/{slug}',
        '/api/v1/tour/{id}',
      ]),
    );
    expect(doc.paths['/api/v1/tour/create'].post.requestBody).toBeDefined();
  });
});
