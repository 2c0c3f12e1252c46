import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/factories.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  cookieHeader,
  expectNoSecretsInResponses,
  latestOtp,
  STRONG_PASSWORD,
  setCookies,
  testClock,
} from './helpers.js';

const clock = testClock(new Date('2030-01-01T10:00:00Z'));
let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp({ clock });
});
afterAll(() => t.close());

describe('register → verify by email code → sign in', () => {
  const email = 'Traveller@Example.com';
  const normalised = 'traveller@example.com';
  let cookies: Record<string, string> = {};
  let tokens: { accessToken: string; refreshToken: string };

  it('registers (201, normalised email, no password in the answer)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/user/register`,
      payload: { name: 'Test User', email: `  ${email} `, password: STRONG_PASSWORD, role: 'SUPER_ADMIN' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 201, success: true, message: 'User Created Successfully' });
    expect(body.data).toMatchObject({
      email: normalised,
      role: 'USER',
      isVerified: false,
      isActive: 'ACTIVE',
      isDeleted: false,
      auths: [{ provider: 'credentials', providerId: normalised }],
    });
    expect(body.data).not.toHaveProperty('password');
    expect(body.data).not.toHaveProperty('passwordHash');
  });

  it('refuses sign-in before verification with the exact legacy message', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, message: 'User is not verified' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('sends a code by email and verifies it', async () => {
    const send = await t.app.inject({ method: 'POST', url: `${API}/otp/send`, payload: { email } });
    expect(send.statusCode).toBe(200);
    expect(send.json()).toMatchObject({ success: true, message: 'OTP sent successfully', data: null });
    const otp = await latestOtp(t, normalised);
    expect(otp).toMatch(/^\d{6}$/);
    const verify = await t.app.inject({ method: 'POST', url: `${API}/otp/verify`, payload: { email, otp } });
    expect(verify.statusCode).toBe(200);
    expect(verify.json()).toMatchObject({ success: true, message: 'OTP verified successfully' });
  });

  it('signs in: tokens in the body, HttpOnly cookies that outlive the access token', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.message).toBe('User Logged In Successfully');
    expect(body.data.user).toMatchObject({ email: normalised, role: 'USER', isVerified: true });
    expect(body.data.user).not.toHaveProperty('password');
    tokens = { accessToken: body.data.accessToken, refreshToken: body.data.refreshToken };
    const set = setCookies(res);
    expect(set.accessToken?.value).toBe(tokens.accessToken);
    expect(set.refreshToken?.value).toBe(tokens.refreshToken);
    for (const name of ['accessToken', 'refreshToken']) {
      const attrs = set[name]!.attributes;
      expect(attrs.httponly).toBe(true);
      expect(attrs.path).toBe('/');
      expect(attrs.samesite).toBe('Lax');
      expect(attrs.secure).toBeUndefined();
      // Lives as long as the session (30 days), far beyond the 15-minute access token.
      const expires = new Date(attrs.expires as string).getTime();
      expect(expires - clock.now().getTime()).toBeGreaterThan(29 * 86_400_000);
    }
    cookies = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
  });

  it('GET /user/me works with cookies alone', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ email: normalised, role: 'USER', name: 'Test User' });
    expect(res.json().data).not.toHaveProperty('password');
  });

  it('GET /user/me works with the raw token and with Bearer in Authorization', async () => {
    for (const authorization of [tokens.accessToken, `Bearer ${tokens.accessToken}`]) {
      const res = await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: { authorization } });
      expect(res.statusCode).toBe(200);
      expect(res.json().data.email).toBe(normalised);
    }
  });

  it('refreshes with the cookie alone (browser clients send no body)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      headers: { cookie: cookieHeader({ refreshToken: cookies.refreshToken! }) },
    });
    expect(res.statusCode).toBe(200);
    const set = setCookies(res);
    expect(set.accessToken?.value).toBe(res.json().data.accessToken);
    expect(set.refreshToken?.value).toBe(res.json().data.refreshToken);
    expect(set.refreshToken?.value).not.toBe(cookies.refreshToken);
    cookies = { accessToken: set.accessToken!.value, refreshToken: set.refreshToken!.value };
    const me = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(me.statusCode).toBe(200);
  });

  it('refreshes with {refreshToken} in the body (API clients)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      payload: { refreshToken: cookies.refreshToken },
    });
    expect(res.statusCode).toBe(200);
    const { accessToken, refreshToken } = res.json().data;
    expect(refreshToken).not.toBe(cookies.refreshToken);
    const me = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(me.statusCode).toBe(200);
    cookies = { accessToken, refreshToken };
  });

  it('an expired access token answers 401 TOKEN_EXPIRED "jwt expired"', async () => {
    clock.advance(16 * 60);
    const res = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'TOKEN_EXPIRED', message: 'jwt expired' });
    // ...and the refresh cookie still works, as a browser client's interceptor expects.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(refreshed.statusCode).toBe(200);
    cookies = {
      accessToken: refreshed.json().data.accessToken,
      refreshToken: refreshed.json().data.refreshToken,
    };
  });

  it('logout revokes the session and expires both cookies with the attributes they were set with', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/logout`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, message: 'User Logged Out Successfully', data: null });
    const set = setCookies(res);
    for (const name of ['accessToken', 'refreshToken']) {
      expect(set[name]?.value).toBe('');
      expect(new Date(set[name]!.attributes.expires as string).getTime()).toBeLessThan(Date.now());
      expect(set[name]!.attributes).toMatchObject({ httponly: true, path: '/', samesite: 'Lax' });
    }
    const me = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { cookie: cookieHeader(cookies) },
    });
    expect(me.statusCode).toBe(401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      payload: { refreshToken: cookies.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('logout without any token still answers 200 and clears the cookies', async () => {
    const res = await t.app.inject({ method: 'POST', url: `${API}/auth/logout` });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(setCookies(res)).sort()).toEqual(['accessToken', 'refreshToken']);
  });

  it('GET /user/me without credentials is a 401', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${API}/user/me` });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
  });

  it('no response of this flow contained a password hash, a token hash or a code', async () => {
    await expectNoSecretsInResponses(t);
  });
});

describe('LEGACY_CLIENT_COMPAT', () => {
  let legacy: TestApp;
  const legacyClock = testClock(new Date('2030-01-01T10:00:00Z'));
  beforeAll(async () => {
    legacy = await buildTestApp({
      clock: legacyClock,
      env: { LEGACY_CLIENT_COMPAT: 'true', COOKIE_SECURE: 'true', COOKIE_SAMESITE: 'none' },
    });
  });
  afterAll(() => legacy.close());

  it('answers an expired access token with 500 "jwt expired", and an expired refresh token with a 401', async () => {
    const user = await createUser(legacy.ctx);
    legacyClock.advance(16 * 60);
    const res = await legacy.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { cookie: cookieHeader({ accessToken: user.accessToken }) },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ success: false, message: 'jwt expired', code: 'TOKEN_EXPIRED' });

    legacyClock.advance(31 * 86_400);
    const refresh = await legacy.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      headers: { cookie: cookieHeader({ refreshToken: user.refreshToken }) },
    });
    expect(refresh.statusCode).toBe(401);
    expect(refresh.json().message).not.toBe('jwt expired');
  });

  it('sets cross-site cookies as SameSite=None; Secure and clears them the same way', async () => {
    const user = await createUser(legacy.ctx, { password: STRONG_PASSWORD });
    const login = await legacy.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: user.email, password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    const logout = await legacy.app.inject({ method: 'POST', url: `${API}/auth/logout` });
    for (const res of [login, logout]) {
      const set = setCookies(res);
      for (const name of ['accessToken', 'refreshToken']) {
        expect(set[name]!.attributes).toMatchObject({
          httponly: true,
          secure: true,
          samesite: 'None',
          path: '/',
        });
      }
    }
  });
});
