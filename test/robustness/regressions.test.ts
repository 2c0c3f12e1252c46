import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { expectErrorEnvelope } from './response-checks.js';

// Defects the fuzz and security sweeps found, each pinned by the smallest request that showed it.
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t?.close());

describe('malformed requests answer 4xx in the envelope', () => {
  it.each(['/api/v1/division/create', '/api/v1/tour/create'])(
    'a truncated multipart body on %s is a 400 naming the body, not a 500',
    async (url) => {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { ...admin.auth, 'content-type': 'multipart/form-data; boundary=----b0undary' },
        payload: Buffer.from('------b0undary\r\nContent-Disposition: form-data; name="data"\r\n\r\n{"na'),
      });
      expect(res.statusCode).toBe(400);
      expectErrorEnvelope(res, url);
      expect(res.json().errorSources).toEqual([{ path: 'body', message: 'Malformed multipart body' }]);
    },
  );
});

describe('undecodable URLs', () => {
  it.each(['/api/v1/user/%', '/api/v1/booking/%E0%A4%A', '/api/v1/tour/%zz'])(
    '%s is a 400 in the envelope naming the url',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url, headers: admin.auth });
      expect(res.statusCode).toBe(400);
      expectErrorEnvelope(res, url);
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_ERROR',
        errorSources: [{ path: 'url', message: 'The request URL is not validly encoded' }],
      });
    },
  );
});

describe('NUL bytes, which PostgreSQL text cannot hold', () => {
  it.each(['/api/v1/division/%00', '/api/v1/tour/a%00b', '/api/v1/payment/local-gateway/tran_%00'])(
    '%s is a 400, not a 500',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expectErrorEnvelope(res, url);
      expect(res.json().code).toBe('VALIDATION_ERROR');
    },
  );

  it('a NUL byte inside a JSON string field is a 400, and nothing is stored', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tour/create-tour-type',
      headers: admin.auth,
      payload: { name: 'River\u0000cruise' },
    });
    expect(res.statusCode).toBe(400);
    expectErrorEnvelope(res, 'tour type with NUL');
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/tour/tour-types?searchTerm=River' });
    expect(list.json().data.meta.total).toBe(0);
  });
});
