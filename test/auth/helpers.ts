import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { otpCodes, passwordResetTokens, sessions, users } from '../../src/db/schema/index.js';
import type { Clock } from '../../src/lib/clock.js';
import { deliverDueEmails } from '../../src/lib/mail/outbox.js';
import { buildTestApp, type TestApp, type TestAppOptions } from '../helpers/app.js';

export const API = '/api/v1';

/** A clock the test moves by hand. */
export function testClock(start = new Date()): Clock & { advance(seconds: number): void } {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(seconds: number) {
      current += seconds * 1000;
    },
  };
}

export interface AccountsTestApp extends TestApp {
  /** Every response body this app produced. */
  bodies: string[];
  /** OTP codes and reset tokens the test has seen in mail: none may ever appear in a response. */
  mailedSecrets: Set<string>;
}

/** A test app that records every response body, so a file can assert that no secret ever left the server. */
export async function buildAccountsApp(options: TestAppOptions = {}): Promise<AccountsTestApp> {
  const bodies: string[] = [];
  const t = await buildTestApp({
    ...options,
    env: { AUTH_RATE_LIMIT_MAX: '10000', ...options.env },
    beforeReady: async (app) => {
      app.addHook('onSend', async (_request, _reply, payload) => {
        if (typeof payload === 'string') bodies.push(payload);
        else if (Buffer.isBuffer(payload)) bodies.push(payload.toString('utf8'));
        return payload;
      });
      await options.beforeReady?.(app);
    },
  });
  return Object.assign(t, { bodies, mailedSecrets: new Set<string>() });
}

/**
 * Fails when any recorded response contains an argon2 hash, a stored refresh-token, OTP or reset-token hash,
 * or a code or reset token that was mailed.
 */
export async function expectNoSecretsInResponses(t: AccountsTestApp) {
  const db = t.ctx.db;
  const [passwordHashes, sessionRows, codeRows, resetRows] = await Promise.all([
    db.select({ h: users.passwordHash }).from(users),
    db.select({ c: sessions.currentTokenHash, p: sessions.previousTokenHash }).from(sessions),
    db.select({ h: otpCodes.codeHash }).from(otpCodes),
    db.select({ h: passwordResetTokens.tokenHash }).from(passwordResetTokens),
  ]);
  const hashes = [
    ...passwordHashes.map((r) => r.h),
    ...sessionRows.flatMap((r) => [r.c, r.p]),
    ...codeRows.map((r) => r.h),
    ...resetRows.map((r) => r.h),
  ].filter((h): h is string => Boolean(h));
  expect(t.bodies.length).toBeGreaterThan(0);
  for (const body of t.bodies) {
    expect(body).not.toContain('$argon2');
    for (const hash of hashes) expect(body).not.toContain(hash);
    for (const secret of t.mailedSecrets) {
      expect(body).not.toMatch(new RegExp(`(?<![0-9A-Za-z_-])${secret}(?![0-9A-Za-z_-])`));
    }
  }
}

/** Decodes quoted-printable bodies of a raw message (enough to read codes and links). */
export function decodeMail(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Runs the outbox sender once, as the background job does. */
export async function deliverMail(t: TestApp) {
  const failures: unknown[] = [];
  const sent = await deliverDueEmails(
    t.ctx.db,
    (row) => t.ctx.mailer.send(row),
    t.ctx.clock.now(),
    (_row, err) => failures.push(err),
  );
  return { sent, failures };
}

/** Delivered `.eml` files addressed to `to`, oldest first, decoded. */
export async function mailsTo(t: TestApp, to: string): Promise<string[]> {
  const dir = path.join(t.dataDir, 'mail');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  const mails = await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')));
  return mails.map(decodeMail).filter((m) => new RegExp(`^To: ${to}$`, 'mi').test(m));
}

export function otpFromMail(mail: string): string {
  const match = /verification code is (\d{6})/.exec(mail);
  if (!match) throw new Error('no OTP in mail');
  return match[1]!;
}

/** Delivers pending mail and returns the newest OTP sent to `email` (remembered as a secret). */
export async function latestOtp(t: AccountsTestApp, email: string): Promise<string> {
  await deliverMail(t);
  const mails = (await mailsTo(t, email)).filter((m) => /Subject: Your OTP Code/.test(m));
  const code = otpFromMail(mails.at(-1) ?? '');
  t.mailedSecrets.add(code);
  return code;
}

/** Delivers pending mail and returns the newest reset link's id and token (the token remembered as a secret). */
export async function latestResetLink(t: AccountsTestApp, email: string) {
  await deliverMail(t);
  const mails = (await mailsTo(t, email)).filter((m) => /Subject: Password Reset/.test(m));
  const match = /(http\S+\/reset-password\?id=([\w-]+)&token=([\w-]+))/.exec(mails.at(-1) ?? '');
  if (!match) throw new Error('no reset link in mail');
  t.mailedSecrets.add(match[3]!);
  return { link: match[1]!, id: match[2]!, token: match[3]! };
}

export interface ParsedCookie {
  value: string;
  attributes: Record<string, string | true>;
}

/** Set-Cookie headers of a response by cookie name. */
export function setCookies(res: LightMyRequestResponse): Record<string, ParsedCookie> {
  const header = res.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Record<string, ParsedCookie> = {};
  for (const line of lines) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i === -1) attributes[a.toLowerCase()] = true;
      else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    out[pair!.slice(0, eq)] = { value: decodeURIComponent(pair!.slice(eq + 1)), attributes };
  }
  return out;
}

/** A `Cookie` request header carrying the given cookies. */
export const cookieHeader = (cookies: Record<string, string>) =>
  Object.entries(cookies)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('; ');

export const STRONG_PASSWORD = 'Tiger-Lantern-42';

/** Registers through the API, verifies directly in the database, and signs in through the API. */
export async function registerAndLogin(
  t: AccountsTestApp,
  overrides: { email?: string; password?: string } = {},
) {
  const email = overrides.email ?? `u${Math.random().toString(36).slice(2, 10)}@example.com`;
  const password = overrides.password ?? STRONG_PASSWORD;
  const reg = await t.app.inject({
    method: 'POST',
    url: `${API}/user/register`,
    payload: { name: 'Flow User', email, password },
  });
  expect(reg.statusCode).toBe(201);
  const id = reg.json().data._id as string;
  await t.ctx.db.update(users).set({ isVerified: true }).where(eq(users.email, email));
  const login = await t.app.inject({
    method: 'POST',
    url: `${API}/auth/login`,
    payload: { email, password },
  });
  expect(login.statusCode).toBe(200);
  const { accessToken, refreshToken } = login.json().data as { accessToken: string; refreshToken: string };
  return { id, email, password, accessToken, refreshToken, login };
}
