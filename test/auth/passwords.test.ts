import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox, securityEvents, sessions, userAuths, users } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { FORGOT_PASSWORD_MESSAGE } from '../../src/modules/auth/routes.js';
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

const clock = testClock(new Date('2030-04-01T09:00:00Z'));
let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp({ clock });
});
afterAll(() => t.close());

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `${API}${url}`, payload, headers });
const login = (email: string, password: string) => post('/auth/login', { email, password });
const liveSessions = async (userId: string) =>
  (await t.ctx.db.select().from(sessions).where(eq(sessions.userId, userId))).filter((s) => !s.revokedAt);
const paths = (res: { json(): { errorSources: { path: string }[] } }) =>
  res.json().errorSources.map((s) => s.path);

describe('POST /auth/change-password', () => {
  it('changes the password and ends the other sessions, keeping the current one', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const elsewhere = (await login(user.email, STRONG_PASSWORD)).json().data;
    const res = await post(
      '/auth/change-password',
      { oldPassword: STRONG_PASSWORD, newPassword: 'Another-Good-Secret-5' },
      user.auth,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, message: 'Password Changed Successfully', data: null });
    expect(
      (await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: user.auth })).statusCode,
    ).toBe(200);
    const stale = await t.app.inject({
      method: 'GET',
      url: `${API}/user/me`,
      headers: { authorization: elsewhere.accessToken },
    });
    expect(stale.statusCode).toBe(401);
    expect((await login(user.email, STRONG_PASSWORD)).statusCode).toBe(401);
    expect((await login(user.email, 'Another-Good-Secret-5')).statusCode).toBe(200);
    const events = await t.ctx.db.select().from(securityEvents).where(eq(securityEvents.userId, user.id));
    expect(events.map((e) => e.type)).toContain('password_changed');
  });

  it('a wrong old password is a 401 "Old Password does not match"', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const res = await post(
      '/auth/change-password',
      { oldPassword: 'wrong-old-password', newPassword: 'Another-Good-Secret-5' },
      user.auth,
    );
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toBe('Old Password does not match');
  });

  it('repeated wrong old passwords lock the route with a growing delay (429 + Retry-After)', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const attempt = (oldPassword: string) =>
      post('/auth/change-password', { oldPassword, newPassword: 'Another-Good-Secret-5' }, user.auth);
    for (let i = 0; i < 5; i++) expect((await attempt(`guess-${i}-password`)).statusCode).toBe(401);
    const locked = await attempt(STRONG_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBe(30);
    clock.advance(31);
    expect((await attempt(STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('parallel wrong old passwords: five are checked, the rest are 429', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post(
          '/auth/change-password',
          { oldPassword: `guess-${i}-password`, newPassword: 'Another-Good-Secret-5' },
          user.auth,
        ),
      ),
    );
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(25);
  }, 60_000);

  it('bad input names the field: missing old password, short, long or common new password', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const cases: [object, string][] = [
      [{ newPassword: 'Another-Good-Secret-5' }, 'oldPassword'],
      [{ oldPassword: STRONG_PASSWORD, newPassword: 'short' }, 'newPassword'],
      [{ oldPassword: STRONG_PASSWORD, newPassword: 'x'.repeat(129) }, 'newPassword'],
      [{ oldPassword: STRONG_PASSWORD, newPassword: 'Password123' }, 'newPassword'],
    ];
    for (const [payload, field] of cases) {
      const res = await post('/auth/change-password', payload, user.auth);
      expect(res.statusCode).toBe(400);
      expect(paths(res)).toContain(field);
    }
  });

  it('401 without a token (before the body is even looked at)', async () => {
    const res = await post('/auth/change-password', { oldPassword: 1 });
    expect(res.statusCode).toBe(401);
  });
});

describe('POST /auth/set-password', () => {
  it('adds a password to an account without one, and credentials sign-in starts working', async () => {
    const user = await createUser(t.ctx);
    await t.ctx.db.update(users).set({ passwordHash: null }).where(eq(users.id, user.id));
    await t.ctx.db.delete(userAuths).where(eq(userAuths.userId, user.id));
    const res = await post('/auth/set-password', { password: 'Fresh-Password-88' }, user.auth);
    expect(res.statusCode).toBe(200);
    expect((await login(user.email, 'Fresh-Password-88')).statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: `${API}/user/me`, headers: user.auth });
    expect(me.json().data.auths).toEqual([{ provider: 'credentials', providerId: user.email }]);
  });

  it('refuses to overwrite an existing password (400 naming password)', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const res = await post('/auth/set-password', { password: 'Fresh-Password-88' }, user.auth);
    expect(res.statusCode).toBe(400);
    expect(paths(res)).toEqual(['password']);
    expect((await login(user.email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('bad input and no token', async () => {
    const user = await createUser(t.ctx);
    const bad = await post('/auth/set-password', { password: 'qwertyuiop' }, user.auth);
    expect(bad.statusCode).toBe(400);
    expect(paths(bad)).toEqual(['password']);
    expect((await post('/auth/set-password', { password: 'Fresh-Password-88' })).statusCode).toBe(401);
  });
});

describe('POST /auth/forgot-password and /auth/reset-password', () => {
  it('answers the same for known and unknown addresses; mails a link only to the real account', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    const known = await post('/auth/forgot-password', { email: user.email.toUpperCase() });
    const unknown = await post('/auth/forgot-password', { email: 'ghost@example.com' });
    for (const res of [known, unknown]) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        statusCode: 200,
        success: true,
        message: FORGOT_PASSWORD_MESSAGE,
        data: null,
      });
    }
    const mails = await t.ctx.db.select().from(emailOutbox);
    expect(mails.filter((m) => m.to === 'ghost@example.com')).toHaveLength(0);
    const link = await latestResetLink(t, user.email);
    expect(link.link.startsWith('http://localhost:3000/reset-password?id=')).toBe(true);
    expect(link.id).toBe(user.id);
  });

  it('resets with the raw token in Authorization, once; ends every session', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    await post('/auth/forgot-password', { email: user.email });
    const { id, token } = await latestResetLink(t, user.email);
    const res = await post(
      '/auth/reset-password',
      { id, newPassword: 'Reset-Password-33' },
      { authorization: token },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, data: null });
    expect(await liveSessions(user.id)).toHaveLength(0);
    expect((await login(user.email, 'Reset-Password-33')).statusCode).toBe(200);
    const again = await post(
      '/auth/reset-password',
      { id, newPassword: 'Second-Reset-44' },
      { authorization: token },
    );
    expect(again.statusCode).toBe(401);
  });

  it('accepts Bearer, refuses another user id, an access token, an expired or superseded token', async () => {
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    await post('/auth/forgot-password', { email: user.email });
    const first = await latestResetLink(t, user.email);
    await post('/auth/forgot-password', { email: user.email });
    const second = await latestResetLink(t, user.email);
    const body = { id: user.id, newPassword: 'Reset-Password-33' };

    const superseded = await post('/auth/reset-password', body, { authorization: first.token });
    expect(superseded.statusCode).toBe(401);
    const otherId = await post(
      '/auth/reset-password',
      { ...body, id: newId() },
      { authorization: `Bearer ${second.token}` },
    );
    expect(otherId.statusCode).toBe(401);
    expect(otherId.json().message).toBe('You can not reset your password');
    const accessToken = await post('/auth/reset-password', body, { authorization: user.accessToken });
    expect(accessToken.statusCode).toBe(401);
    expect((await post('/auth/reset-password', body)).statusCode).toBe(401);

    clock.advance(11 * 60);
    const expired = await post('/auth/reset-password', body, { authorization: `Bearer ${second.token}` });
    expect(expired.statusCode).toBe(401);
    expect((await login(user.email, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('checks the reset token before the new password: a wrong token with a weak password is the token error', async () => {
    for (const newPassword of ['12345678', 'short', 'x'.repeat(129)]) {
      const res = await post(
        '/auth/reset-password',
        { id: newId(), newPassword },
        { authorization: 'guessed' },
      );
      expect(res.statusCode, newPassword).toBe(401);
      expect(res.json().message).toBe('Password reset link is invalid or has expired');
    }
    const user = await createUser(t.ctx, { password: STRONG_PASSWORD });
    await post('/auth/forgot-password', { email: user.email });
    const { id, token } = await latestResetLink(t, user.email);
    const otherId = await post(
      '/auth/reset-password',
      { id: newId(), newPassword: '12345678' },
      { authorization: token },
    );
    expect(otherId.statusCode).toBe(401);
    expect(otherId.json().message).toBe('You can not reset your password');

    // With the right token the policy answers, naming the field, and the token stays usable.
    for (const newPassword of ['12345678', 'short', 'x'.repeat(129)]) {
      const weak = await post('/auth/reset-password', { id, newPassword }, { authorization: token });
      expect(weak.statusCode, newPassword).toBe(400);
      expect(weak.json().code).toBe('VALIDATION_ERROR');
      expect(paths(weak)).toEqual(['newPassword']);
    }
    const reset = await post(
      '/auth/reset-password',
      { id, newPassword: 'Reset-Password-55' },
      { authorization: token },
    );
    expect(reset.statusCode).toBe(200);
    expect((await login(user.email, 'Reset-Password-55')).statusCode).toBe(200);
  });

  it('bad input names the field', async () => {
    const forgot = await post('/auth/forgot-password', { email: 'nope' });
    expect(forgot.statusCode).toBe(400);
    expect(paths(forgot)).toEqual(['email']);
    const cases: [object, string][] = [
      [{ newPassword: 'Reset-Password-33' }, 'id'],
      [{ id: 'not-a-uuid', newPassword: 'Reset-Password-33' }, 'id'],
      [{ id: newId() }, 'newPassword'],
      [{ id: newId(), newPassword: 'x'.repeat(1025) }, 'newPassword'],
    ];
    for (const [payload, field] of cases) {
      const res = await post('/auth/reset-password', payload, { authorization: 'whatever' });
      expect(res.statusCode).toBe(400);
      expect(paths(res)).toContain(field);
    }
  });

  it('limits reset mails per address: the fourth request in 15 minutes is a 429 with Retry-After', async () => {
    const email = 'bombed@example.com';
    for (let i = 0; i < 3; i++) expect((await post('/auth/forgot-password', { email })).statusCode).toBe(200);
    const over = await post('/auth/forgot-password', { email });
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBe(900);
  });

  it('no response contained a secret', async () => {
    await expectNoSecretsInResponses(t);
  });
});
