import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityEvents, sessions, users } from '../../src/db/schema/index.js';
import { createUser } from '../helpers/factories.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  cookieHeader,
  expectNoSecretsInResponses,
  setCookies,
  testClock,
} from './helpers.js';

const clock = testClock(new Date('2030-03-01T08:00:00Z'));
let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp({ clock });
});
afterAll(() => t.close());

const refresh = (refreshToken?: string) =>
  t.app.inject({
    method: 'POST',
    url: `${API}/auth/refresh-token`,
    ...(refreshToken === undefined ? {} : { payload: { refreshToken } }),
  });
const me = (accessToken: string) =>
  t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: { authorization: accessToken } });

describe('POST /auth/refresh-token', () => {
  it('rotates: a new pair, generation + 1, the old hash kept as the predecessor', async () => {
    const user = await createUser(t.ctx);
    const res = await refresh(user.refreshToken);
    expect(res.statusCode).toBe(200);
    expect(res.json().message).toBe('New Access Token Retrieved Successfully');
    const { accessToken, refreshToken } = res.json().data;
    expect(refreshToken).not.toBe(user.refreshToken);
    const [row] = await t.ctx.db.select().from(sessions).where(eq(sessions.id, user.sessionId));
    expect(row).toMatchObject({ generation: 1, revokedAt: null });
    expect(row!.previousTokenHash).toBeTruthy();
    expect(row!.rotatedAt).not.toBeNull();
    expect((await me(accessToken)).statusCode).toBe(200);
  });

  it('20 parallel refreshes with one token all succeed and share one successor', async () => {
    const user = await createUser(t.ctx);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    const successors = new Set(answers.map((a) => a.json().data.refreshToken));
    expect(successors.size).toBe(1);
    const [row] = await t.ctx.db.select().from(sessions).where(eq(sessions.id, user.sessionId));
    expect(row!.generation).toBe(1);
    expect(row!.revokedAt).toBeNull();
    // The shared successor is the live token.
    const [successor] = successors;
    const next = await refresh(successor);
    expect(next.statusCode).toBe(200);
  });

  it('the predecessor after the grace window fails and kills its successor; the reuse is logged', async () => {
    const user = await createUser(t.ctx);
    const first = await refresh(user.refreshToken);
    const successor = first.json().data as { accessToken: string; refreshToken: string };
    clock.advance(11);
    const replay = await refresh(user.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('UNAUTHENTICATED');
    expect(replay.json().message).not.toBe('jwt expired');
    expect((await refresh(successor.refreshToken)).statusCode).toBe(401);
    // The session is gone, so even the unexpired access token stops working at once.
    expect((await me(successor.accessToken)).statusCode).toBe(401);
    const [row] = await t.ctx.db.select().from(sessions).where(eq(sessions.id, user.sessionId));
    expect(row).toMatchObject({ revokedReason: 'refresh_token_reuse' });
    const events = await t.ctx.db.select().from(securityEvents).where(eq(securityEvents.userId, user.id));
    expect(events.map((e) => e.type)).toContain('refresh_token_reuse');
  });

  it('an older token (two generations back) revokes the session even inside the grace window', async () => {
    const user = await createUser(t.ctx);
    const gen1 = (await refresh(user.refreshToken)).json().data.refreshToken;
    const gen2 = (await refresh(gen1)).json().data.refreshToken;
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
    expect((await refresh(gen2)).statusCode).toBe(401);
  });

  it('a blocked user fails at once, even with an unexpired access token, and cannot refresh', async () => {
    const user = await createUser(t.ctx);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    await t.ctx.db.update(users).set({ isActive: 'BLOCKED' }).where(eq(users.id, user.id));
    const blocked = await me(user.accessToken);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().message).toBe('User is BLOCKED');
    const res = await refresh(user.refreshToken);
    expect(res.statusCode).toBe(403);
  });

  it('takes the role from the database, not from the old token', async () => {
    const user = await createUser(t.ctx, { role: 'USER' });
    await t.ctx.db.update(users).set({ role: 'ADMIN' }).where(eq(users.id, user.id));
    const res = await refresh(user.refreshToken);
    const { accessToken } = res.json().data;
    const list = await t.app.inject({
      method: 'GET',
      url: `${API}/user/all-users`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(list.statusCode).toBe(200);
  });

  it('without a token: 401', async () => {
    const res = await refresh();
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, message: 'No refresh token received' });
  });

  it('an access token, a garbled token or an expired refresh token: 401, never "jwt expired"', async () => {
    const user = await createUser(t.ctx);
    for (const token of [user.accessToken, 'not-a-token', `${user.refreshToken}x`]) {
      const res = await refresh(token);
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toMatch(/Invalid refresh token/);
    }
    clock.advance(31 * 86_400);
    const expired = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      headers: { cookie: cookieHeader({ refreshToken: user.refreshToken }) },
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().message).toBe('Refresh token has expired, please sign in again');
    expect(setCookies(expired)).toEqual({});
  });

  it('bad input: a non-string refreshToken is a 400 naming the field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/refresh-token`,
      payload: { refreshToken: 42 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('refreshToken');
  });

  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});
