import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox, otpCodes, users } from '../../src/db/schema/index.js';
import {
  type AccountsTestApp,
  API,
  buildAccountsApp,
  expectNoSecretsInResponses,
  latestOtp,
  testClock,
} from '../auth/helpers.js';
import { createUser } from '../helpers/factories.js';

const clock = testClock(new Date('2030-05-01T09:00:00Z'));
let t: AccountsTestApp;

beforeAll(async () => {
  t = await buildAccountsApp({ clock });
});
afterAll(() => t.close());

const send = (email: unknown) => t.app.inject({ method: 'POST', url: `${API}/otp/send`, payload: { email } });
const verify = (email: unknown, otp: unknown) =>
  t.app.inject({ method: 'POST', url: `${API}/otp/verify`, payload: { email, otp } });
const isVerified = async (id: string) =>
  (await t.ctx.db.select({ v: users.isVerified }).from(users).where(eq(users.id, id)))[0]!.v;
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('POST /otp/send', () => {
  it('mails a 6-digit code valid 10 minutes and stores only its hash', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    const res = await send(user.email);
    expect(res.statusCode).toBe(200);
    const code = await latestOtp(t, user.email);
    const [row] = await t.ctx.db.select().from(otpCodes).where(eq(otpCodes.userId, user.id));
    expect(row!.codeHash).not.toContain(code);
    expect(row!.expiresAt.getTime() - clock.now().getTime()).toBe(10 * 60_000);
  });

  it('answers the same for unknown and already verified addresses, without mailing them', async () => {
    const verified = await createUser(t.ctx, { isVerified: true });
    for (const email of ['ghost-otp@example.com', verified.email]) {
      const res = await send(email);
      expect(res.statusCode).toBe(200);
      expect(res.json().message).toBe('OTP sent successfully');
    }
    const mails = await t.ctx.db.select().from(emailOutbox);
    expect(mails.filter((m) => m.to === verified.email || m.to === 'ghost-otp@example.com')).toHaveLength(0);
  });

  it('one code per minute per address: a resend inside the minute is a 429 with Retry-After', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    expect((await send(user.email)).statusCode).toBe(200);
    clock.advance(20);
    const again = await send(user.email);
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(Number(again.headers['retry-after'])).toBe(40);
    clock.advance(41);
    expect((await send(user.email)).statusCode).toBe(200);
  });

  it('bad input names the field', async () => {
    for (const email of [undefined, 'not-an-email', 42]) {
      const res = await send(email);
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources[0].path).toBe('email');
    }
  });
});

describe('POST /otp/verify', () => {
  it('the right code verifies the account once', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    await send(user.email);
    const code = await latestOtp(t, user.email);
    const res = await verify(user.email, code);
    expect(res.statusCode).toBe(200);
    expect(await isVerified(user.id)).toBe(true);
    expect((await verify(user.email, code)).statusCode).toBe(401);
  });

  it('a wrong code is a 401 "Invalid OTP"; only the newest code works', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    await send(user.email);
    const old = await latestOtp(t, user.email);
    clock.advance(61);
    await send(user.email);
    const fresh = await latestOtp(t, user.email);
    const wrong = await verify(user.email, wrongCode(fresh));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toBe('Invalid OTP');
    if (old !== fresh) expect((await verify(user.email, old)).statusCode).toBe(401);
    expect((await verify(user.email, fresh)).statusCode).toBe(200);
  });

  it('after 5 wrong attempts even the right code is refused (429) until a new one is sent', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    await send(user.email);
    const code = await latestOtp(t, user.email);
    for (let i = 0; i < 5; i++) expect((await verify(user.email, wrongCode(code))).statusCode).toBe(401);
    const locked = await verify(user.email, code);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(await isVerified(user.id)).toBe(false);
    clock.advance(61);
    await send(user.email);
    expect((await verify(user.email, await latestOtp(t, user.email))).statusCode).toBe(200);
  });

  it('an expired code (10 minutes) is refused', async () => {
    const user = await createUser(t.ctx, { isVerified: false });
    await send(user.email);
    const code = await latestOtp(t, user.email);
    clock.advance(10 * 60 + 1);
    expect((await verify(user.email, code)).statusCode).toBe(401);
  });

  it('an unknown address is the same 401 as a wrong code', async () => {
    const res = await verify('nobody-otp@example.com', '123456');
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toBe('Invalid OTP');
  });

  it('bad input names the field', async () => {
    const cases: [unknown, unknown, string][] = [
      ['a@example.com', '12345', 'otp'],
      ['a@example.com', 'abcdef', 'otp'],
      ['a@example.com', 123456, 'otp'],
      ['a@example.com', undefined, 'otp'],
      ['bad', '123456', 'email'],
    ];
    for (const [email, otp, field] of cases) {
      const res = await verify(email, otp);
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources.map((s: { path: string }) => s.path)).toContain(field);
    }
  });

  it('no response contained a code or a hash', async () => {
    await expectNoSecretsInResponses(t);
  });
});
