import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, TEST_ENV, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/factories.js';

const FRONTEND = TEST_ENV.FRONTEND_URL!;

let plain: TestApp;
let crossSite: TestApp;

beforeAll(async () => {
  [plain, crossSite] = await Promise.all([
    // Many sign-ins per app: the per-IP sign-in limit is not what these tests are about.
    buildTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } }),
    buildTestApp({ env: { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true', AUTH_RATE_LIMIT_MAX: '1000' } }),
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

describe('sign-in and session routes from other sites', () => {
  const FOREIGN: [string, Record<string, string>][] = [
    ['another origin', { origin: 'https://evil.example' }],
    ['a look-alike origin', { origin: 'http://localhost:3000.evil.example' }],
    ['an opaque origin', { origin: 'null' }],
    ['another page as referer, no origin', { referer: 'https://evil.example/forms/login.html' }],
    ['an unreadable referer, no origin', { referer: 'not a url' }],
  ];
  const OWN: [string, Record<string, string>][] = [
    ['the front end', { origin: FRONTEND }],
    ["the API's own origin", { origin: TEST_ENV.PUBLIC_URL! }],
    ['a front-end page as referer', { referer: `${FRONTEND}/login?next=/tours` }],
    ['no origin or referer at all (API clients)', {}],
  ];

  const formLogin = (
    t: TestApp,
    user: { email: string; password: string },
    headers: Record<string, string>,
  ) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams({ email: user.email, password: user.password }).toString(),
    });

  it.each(FOREIGN)('a form sign-in from %s is refused without a session', async (_label, headers) => {
    for (const t of [plain, crossSite]) {
      const user = await createUser(t.ctx);
      const res = await formLogin(t, user, headers);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ success: false, code: 'FORBIDDEN' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it.each(OWN)('a sign-in from %s still works', async (_label, headers) => {
    for (const t of [plain, crossSite]) {
      const user = await createUser(t.ctx);
      const res = await formLogin(t, user, headers);
      expect(res.statusCode).toBe(200);
      expect(cookieAttributes(res, 'refreshToken').value.length).toBeGreaterThan(20);
    }
  });

  it.each(FOREIGN)(
    'refresh and logout from %s are refused and leave the session alone',
    async (_l, headers) => {
      const { res } = await login(crossSite);
      const cookies = {
        accessToken: cookieAttributes(res, 'accessToken').value,
        refreshToken: cookieAttributes(res, 'refreshToken').value,
      };
      const refreshed = await crossSite.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh-token',
        cookies,
        headers,
      });
      expect(refreshed.statusCode).toBe(403);
      expect(refreshed.headers['set-cookie']).toBeUndefined();
      // A token in the body would sign the victim's browser into the sender's session: refused too.
      const withBody = await crossSite.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh-token',
        headers,
        payload: { refreshToken: cookies.refreshToken },
      });
      expect(withBody.statusCode).toBe(403);
      const out = await crossSite.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        cookies,
        headers,
      });
      expect(out.statusCode).toBe(403);
      expect(out.headers['set-cookie']).toBeUndefined();

      const me = await crossSite.app.inject({
        method: 'GET',
        url: '/api/v1/user/me',
        cookies: { accessToken: cookies.accessToken },
      });
      expect(me.statusCode).toBe(200);
      const stillValid = await crossSite.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh-token',
        cookies,
        headers: { origin: FRONTEND },
      });
      expect(stillValid.statusCode).toBe(200);
    },
  );

  it('a cookie-authenticated write from another origin is refused whatever SameSite is set to', async () => {
    const { res } = await login(plain);
    const accessToken = cookieAttributes(res, 'accessToken').value;
    for (const headers of [{ origin: 'https://evil.example' }, { referer: 'https://evil.example/x' }]) {
      const forged = await plain.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        cookies: { accessToken },
        headers,
      });
      expect(forged.statusCode).toBe(403);
    }
    // A bearer token is not sent by browsers on their own: the origin does not matter there.
    const user = await createUser(plain.ctx);
    const withHeader = await plain.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-all',
      headers: { ...user.auth, origin: 'https://evil.example' },
    });
    expect(withHeader.statusCode).toBe(200);
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
