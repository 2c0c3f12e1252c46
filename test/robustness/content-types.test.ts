import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { expectErrorEnvelope } from './response-checks.js';

// A body sent without a JSON content type used to be read as something else and answered with its fields
// "missing" (`name: Invalid input: expected string, received undefined`). The content type is the problem, and
// the answer says so.
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t?.close());

const registration = (email: string) =>
  JSON.stringify({ name: 'Nusrat Jahan', email, password: 'Sundarban-Trip-2026' });

const register = (email: string, headers: Record<string, string>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/user/register', headers, payload: registration(email) });

async function expectNoAccount(email: string) {
  const rows = await t.ctx.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  expect(rows, email).toEqual([]);
}

describe('a JSON body sent without a JSON content type', () => {
  it.each([
    [
      'form-urlencoded (what curl -d sends)',
      'application/x-www-form-urlencoded',
      /sent as application\/x-www-form-urlencoded/,
    ],
    ['text/plain', 'text/plain;charset=UTF-8', /does not read a text\/plain body/],
    [
      'multipart on a route without uploads',
      'multipart/form-data; boundary=----b0undary',
      /multipart\/form-data/,
    ],
    ['an unknown type', 'application/xml', /Content-Type application\/xml is not accepted/],
  ])('as %s is a 415 naming the content type, and creates nothing', async (_label, type, says) => {
    const email = `typed-${Math.random().toString(36).slice(2)}@example.com`;
    const res = await register(email, { 'content-type': type });
    expect(res.statusCode).toBe(415);
    expectErrorEnvelope(res, type);
    const body = res.json();
    expect(body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(body.message).toMatch(says);
    expect(body.message).toContain('Content-Type: application/json');
    expect(body.errorSources).toEqual([{ path: 'Content-Type', message: body.message }]);
    await expectNoAccount(email);
  });

  it('with no content type at all is a 415 that says the header is missing', async () => {
    const email = `untyped-${Math.random().toString(36).slice(2)}@example.com`;
    const res = await register(email, {});
    expect(res.statusCode).toBe(415);
    expectErrorEnvelope(res, 'no content type');
    expect(res.json().message).toMatch(/no Content-Type/);
    await expectNoAccount(email);
  });

  it('repeats a content type only when it is a plain media type, never arbitrary header text', async () => {
    for (const type of ['text/<script>alert(1)</script>', `application/${'x'.repeat(300)}`]) {
      const res = await register(`odd-${Math.random().toString(36).slice(2)}@example.com`, {
        'content-type': type,
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(res.body).not.toContain('<script>');
      expect(res.body).not.toContain('x'.repeat(100));
    }
  });

  it('an authenticated write is refused the same way', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tour/create-tour-type',
      headers: { ...admin.auth, 'content-type': 'text/plain' },
      payload: JSON.stringify({ name: 'River cruise' }),
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('bodies that are what they say keep their answers', () => {
  it('a real form still signs in, and a form missing a field still names the field', async () => {
    const user = await createUser(t.ctx);
    const form = (fields: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    expect((await form({ email: user.email, password: user.password })).statusCode).toBe(200);
    const missing = await form({ email: user.email });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(missing.json().errorSources.map((s: { path: string }) => s.path)).toEqual(['password']);
  });

  it('JSON with a field missing still names the field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/register',
      headers: { 'content-type': 'application/json' },
      payload: { email: 'no-name@example.com', password: 'Sundarban-Trip-2026' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/^name: /) });
  });
});
