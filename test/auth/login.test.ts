import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { and, eq } from 'drizzle-orm';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authThrottle, securityEvents, sessions, userAuths, users } from '../../src/db/schema/index.js';
import { successSchema } from '../../src/lib/envelope.js';
import { loginResult } from '../../src/modules/auth/schemas.js';
import { publicUser } from '../../src/modules/users/schemas.js';
import { createUser } from '../helpers/factories.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  expectNoSecretsInResponses,
  latestResetLink,
  STRONG_PASSWORD,
  testClock,
} from './helpers.js';

const clock = testClock(new Date('2030-02-01T12:00:00Z'));
let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp({ clock });
});
afterAll(() => t.close());

const login = (payload: unknown, remoteAddress = '127.0.0.1') =>
  t.app.inject({ method: 'POST', url: `${API}/auth/login`, payload: payload as object, remoteAddress });

describe('POST /auth/login', () => {
  it('wrong password and unknown email get the same 401 "Password does not match"', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const wrong = await login({ email: user.email, password: 'not-the-password' });
    const unknown = await login({ email: 'nobody-here@example.com', password: 'not-the-password' });
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ success: false, message: 'Password does not match' });
    }
    const events = await t.ctx.db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.type, 'sign_in_failed'));
    expect(events.map((e) => e.email)).toEqual(
      expect.arrayContaining([user.email, 'nobody-here@example.com']),
    );
  });

  it('unknown emails take as long as wrong passwords (both check an argon2 hash)', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const time = async (email: string) => {
      const start = performance.now();
      await login({ email, password: 'wrong-password-1' });
      return performance.now() - start;
    };
    await time('warm-up@example.com');
    const known: number[] = [];
    const unknown: number[] = [];
    // Four of each (under the five free tries): the fastest of each is what the work costs, since another test
    // file sharing the cores can only slow a sample down, never speed it up.
    for (let i = 0; i < 4; i++) {
      known.push(await time(user.email));
      unknown.push(await time(`nobody-${i}@example.com`));
    }
    // A missing hash check would make unknown emails several times faster than the ≈10+ ms of argon2.
    expect(Math.min(...unknown)).toBeGreaterThan(Math.min(...known) * 0.4);
  });

  it('blocked, inactive and deleted accounts get a 403 with a clear message after a correct password', async () => {
    for (const [state, message] of [
      [{ isActive: 'BLOCKED' as const }, 'User is BLOCKED'],
      [{ isActive: 'INACTIVE' as const }, 'User is INACTIVE'],
      [{ isDeleted: true }, 'User is deleted'],
    ] as const) {
      const user = await createUser(t.ctx, { password: STRONG_PASSWORD, ...state });
      const res = await login({ email: user.email, password: STRONG_PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(res.json().message).toBe(message);
    }
  });

  it('a Google-only account (no password) is told to use Google or set a password', async () => {
    const user = await createUser(t.ctx);
    await t.ctx.db.update(users).set({ passwordHash: null }).where(eq(users.id, user.id));
    await t.ctx.db.delete(userAuths).where(eq(userAuths.userId, user.id));
    const res = await login({ email: user.email, password: 'anything-at-all' });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/Google.*set a password/);
  });

  it('rehashes a password stored with old argon2 parameters on sign-in', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const weak = await hash(STRONG_PASSWORD, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await t.ctx.db.update(users).set({ passwordHash: weak }).where(eq(users.id, user.id));
    const res = await login({ email: user.email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(200);
    const [row] = await t.ctx.db.select({ h: users.passwordHash }).from(users).where(eq(users.id, user.id));
    expect(row!.h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(200);
  });

  it('records successful sign-ins with ip and user agent', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: user.email, password: STRONG_PASSWORD },
      headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/120.0' },
      remoteAddress: '10.1.2.3',
    });
    const [event] = await t.ctx.db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.userId, user.id))
      .orderBy(securityEvents.createdAt);
    expect(event).toMatchObject({ type: 'sign_in', ip: '10.1.2.3', email: user.email });
  });

  it('opens a session logged by a sign_in event naming it, and answers with the full profile', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD, name: 'Profile Person' });
    const res = await login({ email: user.email, password: STRONG_PASSWORD }, '10.4.4.4');
    expect(res.statusCode).toBe(200);
    const { accessToken, user: profile } = res.json().data;
    expect(profile).toMatchObject({
      _id: user.id,
      name: 'Profile Person',
      auths: [{ provider: 'credentials', providerId: user.email }],
    });
    expect(profile.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    const sessionId = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).sid;
    const [session] = await t.ctx.db.select().from(sessions).where(eq(sessions.id, sessionId));
    expect(session).toMatchObject({
      userId: user.id,
      ip: '10.4.4.4',
      provider: 'credentials',
      revokedAt: null,
    });
    const events = await t.ctx.db
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.userId, user.id), eq(securityEvents.type, 'sign_in')));
    expect(events.map((e) => e.details)).toContainEqual({ sessionId, provider: 'credentials' });
  });

  it('answers with the same text the Zod response check wrote, every profile field included', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const res = await login({ email: user.email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body.data)).toEqual(Object.keys(loginResult.shape));
    expect(Object.keys(body.data.user)).toEqual(Object.keys(publicUser.shape));
    const zodSerializer = zodSerializerCompiler({
      schema: successSchema(loginResult),
      method: 'POST',
      url: '/login',
      httpStatus: '200',
    });
    expect(res.body).toBe(zodSerializer(body));
  });

  it('issues HS256 JWTs with the claims in their usual order and lifetimes, byte for byte as jose signs them', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD, role: 'ADMIN' });
    const res = await login({ email: user.email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(200);
    const { accessToken, refreshToken } = res.json().data;
    const { jwt } = t.ctx.config;
    const decode = (token: string) => {
      const [header, payload] = token
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      return { header, payload };
    };
    // Another implementation signing the same header and claims must give the same token.
    const resign = (token: string, secret: string) =>
      new SignJWT(decode(token).payload)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(secret));
    const second = Math.floor(clock.now().getTime() / 1000);

    const access = decode(accessToken);
    expect(access.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(access.payload)).toEqual([
      'userId',
      'email',
      'role',
      'sid',
      'type',
      'iss',
      'aud',
      'sub',
      'jti',
      'iat',
      'exp',
    ]);
    expect(access.payload).toMatchObject({
      userId: user.id,
      email: user.email,
      role: 'ADMIN',
      type: 'access',
      iss: jwt.issuer,
      aud: jwt.audience,
      sub: user.id,
      iat: second,
      exp: second + jwt.accessExpiresSeconds,
    });
    expect(await resign(accessToken, jwt.accessSecret)).toBe(accessToken);

    const refresh = decode(refreshToken);
    expect(refresh.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(refresh.payload)).toEqual([
      'userId',
      'email',
      'role',
      'sid',
      'type',
      'gen',
      'iss',
      'aud',
      'sub',
      'jti',
      'iat',
      'exp',
    ]);
    expect(refresh.payload).toMatchObject({
      sid: access.payload.sid,
      type: 'refresh',
      gen: 0,
      iat: second,
      exp: second + jwt.refreshExpiresSeconds,
    });
    expect(await resign(refreshToken, jwt.refreshSecret)).toBe(refreshToken);
  });

  it('a sign-in after failures clears their counter, so the next failures start from five free tries again', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    for (let i = 0; i < 4; i++) await login({ email: user.email, password: `wrong-${i}-password` });
    const key = `login:${user.email}`;
    expect(await t.ctx.db.select().from(authThrottle).where(eq(authThrottle.key, key))).toHaveLength(1);
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(200);
    expect(await t.ctx.db.select().from(authThrottle).where(eq(authThrottle.key, key))).toHaveLength(0);
    for (let i = 0; i < 4; i++) await login({ email: user.email, password: `again-${i}-password` });
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(200);
  });

  it('bad input is a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ password: 'x' }, 'email'],
      [{ email: 'not-an-email', password: 'x' }, 'email'],
      [{ email: 'a@example.com' }, 'password'],
      [{ email: 'a@example.com', password: '' }, 'password'],
      [{ email: 'a@example.com', password: 12345678 }, 'password'],
    ];
    for (const [payload, field] of cases) {
      const res = await login(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errorSources.map((s: { path: string }) => s.path)).toContain(field);
    }
  });

  it('repeated failures on one account add a growing delay (429 + Retry-After), not reset by other IPs', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    for (let i = 0; i < 5; i++) {
      const res = await login({ email: user.email, password: `wrong-${i}-password` }, `10.0.0.${i + 1}`);
      expect(res.statusCode).toBe(401);
    }
    const locked = await login({ email: user.email, password: STRONG_PASSWORD }, '10.9.9.9');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBe(30);

    clock.advance(31);
    expect((await login({ email: user.email, password: 'wrong-again-1' })).statusCode).toBe(401);
    const longer = await login({ email: user.email, password: STRONG_PASSWORD });
    expect(longer.statusCode).toBe(429);
    expect(Number(longer.headers['retry-after'])).toBe(60);

    clock.advance(61);
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(200);
    // Success clears the counter.
    expect((await login({ email: user.email, password: 'wrong-after-success' })).statusCode).toBe(401);
  });

  it('100 parallel wrong passwords for one account: five are checked, the rest are 429 without a check', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        login({ email: user.email, password: `parallel-guess-${i}` }, `10.7.${i >> 6}.${(i & 63) + 1}`),
      ),
    );
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(95);
    for (const r of responses.filter((r) => r.statusCode === 429)) {
      expect(r.json().code).toBe('RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBe(30);
    }
    // Every password actually checked and found wrong leaves one sign_in_failed event.
    const failures = await t.ctx.db
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.userId, user.id), eq(securityEvents.type, 'sign_in_failed')));
    expect(failures).toHaveLength(5);

    // The right password waits for the delay too, then signs in.
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(429);
    clock.advance(29);
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(429);
    clock.advance(2);
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(200);
  }, 60_000);

  it('a right password never counts as a failure: for an account that may not sign in, it clears the failures too', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD, isActive: 'BLOCKED' });
    for (let i = 0; i < 4; i++) await login({ email: user.email, password: `wrong-${i}-password` });
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(403);
    const key = `login:${user.email}`;
    expect(await t.ctx.db.select().from(authThrottle).where(eq(authThrottle.key, key))).toHaveLength(0);
  });

  it('a locked-out account can still reset its password, and the reset lifts the lockout', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    for (let i = 0; i < 6; i++) await login({ email: user.email, password: `guess-${i}-password` });
    expect((await login({ email: user.email, password: STRONG_PASSWORD })).statusCode).toBe(429);

    const forgot = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/forgot-password`,
      payload: { email: user.email },
    });
    expect(forgot.statusCode).toBe(200);
    const { id, token } = await latestResetLink(t, user.email);
    const reset = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/reset-password`,
      headers: { authorization: token },
      payload: { id, newPassword: 'A-brand-new-secret-7' },
    });
    expect(reset.statusCode).toBe(200);
    expect((await login({ email: user.email, password: 'A-brand-new-secret-7' })).statusCode).toBe(200);
  });

  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});

describe('per-IP limits on sign-in, code, reset and registration routes', () => {
  let limited: AccountsTestApp;
  beforeAll(async () => {
    limited = await buildAccountsApp({ env: { AUTH_RATE_LIMIT_MAX: '3' } });
  });
  afterAll(() => limited.close());

  // A different address each time, so only the per-IP limit (not the per-account one) can answer 429.
  const routes: [string, (n: number) => object][] = [
    ['/auth/login', (n) => ({ email: `ip-limit-${n}@example.com`, password: 'whatever-1' })],
    ['/otp/send', (n) => ({ email: `ip-limit-${n}@example.com` })],
    ['/otp/verify', (n) => ({ email: `ip-limit-${n}@example.com`, otp: '123456' })],
    ['/auth/forgot-password', (n) => ({ email: `ip-limit-${n}@example.com` })],
    ['/auth/reset-password', () => ({ id: randomUUID(), newPassword: 'Whatever-Pass-1' })],
    [
      '/user/register',
      (n) => ({ name: 'Limited Registrant', email: `ip-limit-${n}@example.com`, password: STRONG_PASSWORD }),
    ],
  ];
  for (const [route, payload] of routes) {
    it(`${route}: the request past the limit is a 429 with Retry-After; another IP is unaffected`, async () => {
      let n = 0;
      const send = (remoteAddress: string) =>
        limited.app.inject({ method: 'POST', url: `${API}${route}`, payload: payload(n++), remoteAddress });
      for (let i = 0; i < 3; i++) expect((await send('192.0.2.1')).statusCode).not.toBe(429);
      const over = await send('192.0.2.1');
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect((await send('192.0.2.99')).statusCode).not.toBe(429);
    });
  }
});
