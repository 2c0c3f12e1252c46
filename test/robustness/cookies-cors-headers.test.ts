import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, TEST_ENV, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/factories.js';

const FRONTEND = TEST_ENV.FRONTEND_URL!;

let plain: TestApp;
let crossSite: TestApp;

beforeAll(async () => {
  [plain, crossSite] = await Promise.all([
    buildTestApp(),
    buildTestApp({ env: { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true' } }),
  ]);
});
afterAll(async () => {
  await plain?.close();
  await crossSite?.close();
});

/** The raw Set-Cookie line for a cookie, split into lower-cased attributes. */
function cookieAttributes(res: LightMyRequestResponse, name: string) {
  const raw = ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .find((line) => line.startsWith(`${name}=`));
  expect(raw, `Set-Cookie ${name}`).toBeDefined();
  const [pair, ...attrs] = raw!.split(';').map((p) => p.trim());
  const map = new Map<string, string>();
  for (const a of attrs) {
    const [k, ...v] = a.split('=');
    map.set(k!.toLowerCase(), v.join('='));
  }
  return { value: pair!.slice(name.length + 1), attrs: map };
}

/** Seconds until a cookie expires, from Max-Age or Expires. */
function lifetimeSeconds(attrs: Map<string, string>): number {
  if (attrs.has('max-age')) return Number(attrs.get('max-age'));
  expect(attrs.has('expires'), 'Expires or Max-Age').toBe(true);
  return (Date.parse(attrs.get('expires')!) - Date.now()) / 1000;
}

async function login(t: TestApp) {
  const user = await createUser(t.ctx);
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: user.email, password: user.password },
  });
  expect(res.statusCode).toBe(200);
  return { user, res };
}

describe('auth cookies', () => {
  it.each([
    ['plain-http local runs', () => plain, 'lax', false],
    ['cross-site deployments', () => crossSite, 'none', true],
  ] as const)(
    'on %s: login, refresh and logout set them with the configured attributes',
    async (_name, app, sameSite, secure) => {
      const t = app();
      const { res } = await login(t);
      const refreshLifetime = t.ctx.config.jwt.refreshExpiresSeconds;
      const issued = [res];
      const refreshToken = cookieAttributes(res, 'refreshToken').value;
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh-token',
        cookies: { refreshToken },
        headers: { origin: FRONTEND },
      });
      expect(refreshed.statusCode).toBe(200);
      issued.push(refreshed);

      for (const r of issued) {
        for (const name of ['accessToken', 'refreshToken']) {
          const { value, attrs } = cookieAttributes(r, name);
          expect(value.length, name).toBeGreaterThan(20);
          expect(attrs.has('httponly'), `${name} HttpOnly`).toBe(true);
          expect(attrs.get('samesite')?.toLowerCase(), `${name} SameSite`).toBe(sameSite);
          expect(attrs.has('secure'), `${name} Secure`).toBe(secure);
          expect(attrs.get('path'), `${name} Path`).toBe('/');
          // Both live as long as the session's refresh token (the server decides when the access token expired).
          expect(Math.abs(lifetimeSeconds(attrs) - refreshLifetime), `${name} lifetime`).toBeLessThan(120);
          expect(attrs.has('domain'), `${name} Domain`).toBe(false);
        }
      }

      const accessToken = cookieAttributes(refreshed, 'accessToken').value;
      const out = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        cookies: { accessToken, refreshToken: cookieAttributes(refreshed, 'refreshToken').value },
        headers: { origin: FRONTEND },
      });
      expect(out.statusCode).toBe(200);
      for (const name of ['accessToken', 'refreshToken']) {
        const { value, attrs } = cookieAttributes(out, name);
        expect(value).toBe('');
        expect(lifetimeSeconds(attrs), `${name} cleared`).toBeLessThanOrEqual(0);
        // A browser drops a cookie only when the clearing attributes match those it was set with.
        expect(attrs.has('httponly')).toBe(true);
        expect(attrs.get('samesite')?.toLowerCase()).toBe(sameSite);
        expect(attrs.has('secure')).toBe(secure);
        expect(attrs.get('path')).toBe('/');
      }
      const after = await t.app.inject({ method: 'GET', url: '/api/v1/user/me', cookies: { accessToken } });
      expect(after.statusCode).toBe(401);
    },
  );

  it('never exposes the tokens to the page in any other header', async () => {
    const { res } = await login(plain);
    expect(res.headers['access-control-expose-headers'] ?? '').not.toMatch(/set-cookie|authorization/i);
  });
});

describe('cross-site cookie requests', () => {
  it('refuses a state-changing cookie-authenticated request from another origin, or with no origin', async () => {
    const { res } = await login(crossSite);
    const accessToken = cookieAttributes(res, 'accessToken').value;
    for (const headers of [{ origin: 'https://evil.example' }, {}]) {
      const forged = await crossSite.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        cookies: { accessToken },
        headers,
      });
      expect(forged.statusCode).toBe(403);
      expect(forged.json()).toMatchObject({ success: false, code: 'FORBIDDEN' });
    }
    const fromFrontEnd = await crossSite.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-all',
      cookies: { accessToken },
      headers: { origin: FRONTEND },
    });
    expect(fromFrontEnd.statusCode).toBe(200);
  });
});

describe('CORS', () => {
  it('answers a preflight from the configured front end, with credentials', async () => {
    const res = await plain.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/booking',
      headers: {
        origin: FRONTEND,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization,idempotency-key',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(FRONTEND);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it.each(['https://evil.example', 'http://localhost:3000.evil.example', 'null', 'http://localhost:3001'])(
    'refuses the origin %s on preflights and on requests',
    async (origin) => {
      const preflight = await plain.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/user/me',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const user = await createUser(plain.ctx);
      const get = await plain.app.inject({
        method: 'GET',
        url: '/api/v1/user/me',
        headers: { origin, ...user.auth },
      });
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    },
  );
});

describe('security headers', () => {
  const expectHardened = (res: LightMyRequestResponse, label: string) => {
    expect(res.headers['x-content-type-options'], label).toBe('nosniff');
    expect(res.headers['x-frame-options'], label).toBeDefined();
    expect(res.headers['strict-transport-security'], label).toBeDefined();
    expect(res.headers['referrer-policy'], label).toBeDefined();
    expect(res.headers['x-powered-by'], label).toBeUndefined();
    expect(res.headers['x-request-id'], label).toMatch(/\S+/);
  };

  it.each([
    ['a success', { method: 'GET', url: '/api/v1/tour' }],
    ['a 401', { method: 'GET', url: '/api/v1/user/me' }],
    ['a 400', { method: 'GET', url: '/api/v1/tour?page=abc' }],
    ['a 404 route', { method: 'GET', url: '/api/v1/nothing-here' }],
    ['a 404 resource', { method: 'GET', url: '/api/v1/tour/no-such-tour' }],
    [
      'a malformed JSON body',
      {
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: '{"x":',
        headers: { 'content-type': 'application/json' },
      },
    ],
  ] as const)('are on %s', async (label, request) => {
    const res = await plain.app.inject(request as never);
    expectHardened(res, label);
  });

  it('an undecodable URL, answered before routing, still carries nosniff and a request id', async () => {
    const res = await plain.app.inject({ method: 'GET', url: '/api/v1/tour/%zz' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/\S+/);
  });
});
