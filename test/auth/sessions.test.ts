import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { createUser } from '../helpers/factories.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  expectNoSecretsInResponses,
  STRONG_PASSWORD,
} from './helpers.js';

let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp();
});
afterAll(() => t.close());

const signIn = async (email: string, userAgent: string) => {
  const res = await t.app.inject({
    method: 'POST',
    url: `${API}/auth/login`,
    payload: { email, password: STRONG_PASSWORD },
    headers: { 'user-agent': userAgent },
  });
  expect(res.statusCode).toBe(200);
  return res.json().data as { accessToken: string; refreshToken: string };
};
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

describe('GET /auth/sessions', () => {
  it("lists the caller's live sessions with device, ip, times and which one is current", async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const laptop = await signIn(user.email, CHROME);
    await signIn(user.email, FIREFOX);
    const res = await t.app.inject({
      method: 'GET',
      url: `${API}/auth/sessions`,
      headers: { authorization: laptop.accessToken },
    });
    expect(res.statusCode).toBe(200);
    const list = res.json().data as { device: string; current: boolean; ip: string; createdAt: string }[];
    expect(list).toHaveLength(3);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    expect(list.find((s) => s.current)).toMatchObject({ device: 'Chrome on Windows', ip: '127.0.0.1' });
    expect(list.map((s) => s.device)).toContain('Firefox on Linux');
    for (const s of list) expect(Object.keys(s)).not.toContain('currentTokenHash');
  });

  it('401 without a token; 403 for an unverified account', async () => {
    const res = await t.app.inject({ method: 'GET', url: `${API}/auth/sessions` });
    expect(res.statusCode).toBe(401);
    const unverified = await createUser(t.ctx, { isVerified: false });
    const denied = await t.app.inject({
      method: 'GET',
      url: `${API}/auth/sessions`,
      headers: unverified.auth,
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().message).toBe('User is not verified');
  });
});

describe('DELETE /auth/sessions/:id', () => {
  it('ends one of the caller own sessions; its tokens stop working', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const phone = await signIn(user.email, FIREFOX);
    const [phoneSession] = await t.ctx.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, user.id), eq(sessions.userAgent, FIREFOX)));
    const res = await t.app.inject({
      method: 'DELETE',
      url: `${API}/auth/sessions/${phoneSession!.id}`,
      headers: user.auth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    const stale = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { authorization: phone.accessToken },
    });
    expect(stale.statusCode).toBe(401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      payload: { refreshToken: phone.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    // Still signed in elsewhere.
    expect(
      (await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: user.auth })).statusCode,
    ).toBe(200);
  });

  it("someone else's session, an unknown id and a malformed id are all 404", async () => {
    const owner = await createUser(t.ctx);
    const other = await createUser(t.ctx);
    for (const id of [owner.sessionId, newId(), 'not-an-id']) {
      const res = await t.app.inject({
        method: 'DELETE',
        url: `${API}/auth/sessions/${id}`,
        headers: other.auth,
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
    }
    expect(
      (await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: owner.auth })).statusCode,
    ).toBe(200);
  });

  it('401 without a token', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: `${API}/auth/sessions/${newId()}` });
    expect(res.statusCode).toBe(401);
  });
});

describe('POST /auth/logout-all', () => {
  it('ends every session of the caller and clears the cookies', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const other = await signIn(user.email, FIREFOX);
    const res = await t.app.inject({ method: 'POST', url: `${API}/auth/logout-all`, headers: user.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ sessionsEnded: 2 });
    expect(res.headers['set-cookie']).toBeDefined();
    for (const authorization of [user.auth.authorization, other.accessToken]) {
      const me = await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: { authorization } });
      expect(me.statusCode).toBe(401);
    }
  });

  it('401 without a token; 403 for a blocked account', async () => {
    expect((await t.app.inject({ method: 'POST', url: `${API}/auth/logout-all` })).statusCode).toBe(401);
    const blocked = await createUser(t.ctx, { isActive: 'BLOCKED' });
    const res = await t.app.inject({ method: 'POST', url: `${API}/auth/logout-all`, headers: blocked.auth });
    expect(res.statusCode).toBe(403);
  });
});

describe('POST /auth/logout', () => {
  it('with only a refresh cookie (expired access token) still ends the session', async () => {
    const user = await createUser(t.ctx);
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/logout`,
      headers: { cookie: `refreshToken=${user.refreshToken}` },
    });
    expect(res.statusCode).toBe(200);
    const [row] = await t.ctx.db.select().from(sessions).where(eq(sessions.id, user.sessionId));
    expect(row).toMatchObject({ revokedReason: 'logout' });
  });
});

describe('secrets', () => {
  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});
