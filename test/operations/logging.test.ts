import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emailOutbox } from '../../src/db/schema/index.js';
import type { DomainEvent } from '../../src/lib/domain-events.js';
import type { Mailer } from '../../src/lib/mail/mailer.js';
import { sendDueEmails } from '../../src/lib/mail/outbox.js';
import { decodeMail } from '../auth/helpers.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, movableClock } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

/** The local gateway page's path with its signed query, as a browser opens the payment link. */
const localPath = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

type LogEntry = Record<string, unknown> & { level: number; msg: string; event?: DomainEvent };

/** Every line the app logs, parsed. */
const lines: LogEntry[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
const raw = () => lines.map((l) => JSON.stringify(l)).join('\n');
const events = (name: DomainEvent) => lines.filter((l) => l.event === name);
const LEVEL = { info: 30, warn: 40, error: 50 };

const clock = movableClock();
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({
    clock,
    logger: { level: 'info', stream: capture },
    env: { REFRESH_GRACE_SECONDS: '0', AUTH_RATE_LIMIT_MAX: '10000' },
  });
});
afterAll(() => t?.close());
beforeEach(() => {
  lines.length = 0;
});

const API = '/api/v1';
const form = (url: string, fields: Record<string, string>) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

async function bookAndOpenPage(user: TestUser) {
  const tour = await createTour(t.ctx, { costFrom: 1200 });
  const res = await t.app.inject({
    method: 'POST',
    url: `${API}/booking`,
    headers: user.auth,
    payload: { tour: tour.id, guestCount: 1 },
  });
  expect(res.statusCode).toBe(201);
  const { paymentUrl, booking } = res.json().data;
  const page = await t.app.inject({ method: 'GET', url: localPath(paymentUrl) });
  const valId = /name="val_id" value="([^"]+)"/.exec(page.body)![1]!;
  // The page's Fail and Cancel buttons post a signature; without it a return changes nothing.
  const signatureOf = (kind: string) =>
    new RegExp(`action="/api/v1/payment/${kind}[^"]*">.*?name="signature" value="([^"]+)"`, 's').exec(
      page.body,
    )![1]!;
  return {
    booking,
    tranId: booking.payment.transactionId as string,
    valId,
    cancelSignature: signatureOf('cancel'),
    failSignature: signatureOf('fail'),
  };
}

describe('request log', () => {
  it('one line per request with method, path, status and time', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    const requests = lines.filter((l) => l.req);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ level: LEVEL.info, req: { method: 'GET', url: '/health' } });
    expect(requests[0]!.res).toEqual({ statusCode: 200 });
    expect(requests[0]!.responseTime).toEqual(expect.any(Number));
    expect(requests[1]).toMatchObject({ req: { url: '/api/v1/nope' }, res: { statusCode: 404 } });
    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
  });

  it('an error answer carries its error code; a success none', async () => {
    const user = await createUser(t.ctx);
    await t.app.inject({ method: 'GET', url: '/health' });
    await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    await t.app.inject({ method: 'GET', url: '/api/v1/user/me' });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/register',
      headers: { 'content-type': 'text/plain' },
      payload: '{"name":"x"}',
    });
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email } });
    const answers = lines.filter((l) => l.req).map((l) => [(l.req as { url: string }).url, l.res]);
    expect(answers).toEqual([
      ['/health', { statusCode: 200 }],
      ['/api/v1/nope', { statusCode: 404, code: 'NOT_FOUND' }],
      ['/api/v1/user/me', { statusCode: 401, code: 'UNAUTHENTICATED' }],
      ['/api/v1/user/register', { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['/api/v1/auth/login', { statusCode: 400, code: 'VALIDATION_ERROR' }],
    ]);
  });
});

describe('domain events', () => {
  it('a payment confirmed once, however often the gateway calls back; a forged one refused', async () => {
    const owner = await createUser(t.ctx);
    const { booking, tranId, valId } = await bookAndOpenPage(owner);

    const forged = await form(`${API}/payment/validate-payment`, {
      tran_id: tranId,
      val_id: 'local.e30.AAAA',
    });
    expect(forged.statusCode).toBe(400);
    expect(events('payment.refused')).toEqual([
      expect.objectContaining({ level: LEVEL.warn, paymentId: booking.payment._id, via: 'ipn' }),
    ]);

    for (let i = 0; i < 2; i++) {
      expect((await form(`${API}/payment/success`, { tran_id: tranId, val_id: valId })).statusCode).toBe(302);
    }
    expect(
      (await form(`${API}/payment/validate-payment`, { tran_id: tranId, val_id: valId })).statusCode,
    ).toBe(200);
    expect(events('payment.confirmed')).toEqual([
      expect.objectContaining({
        level: LEVEL.info,
        paymentId: booking.payment._id,
        bookingId: booking._id,
        amount: 1200,
        currency: 'BDT',
        via: 'success',
      }),
    ]);
    expect(raw()).not.toContain(valId);
  });

  it('a payment cancelled or failed once', async () => {
    const owner = await createUser(t.ctx);
    const cancelled = await bookAndOpenPage(owner);
    for (let i = 0; i < 2; i++) {
      await form(`${API}/payment/cancel`, {
        tran_id: cancelled.tranId,
        signature: cancelled.cancelSignature,
      });
    }
    const failed = await bookAndOpenPage(owner);
    await form(`${API}/payment/fail`, { tran_id: failed.tranId, signature: failed.failSignature });
    expect(events('payment.cancelled')).toEqual([
      expect.objectContaining({ level: LEVEL.info, bookingId: cancelled.booking._id }),
    ]);
    expect(events('payment.failed')).toEqual([
      expect.objectContaining({ level: LEVEL.info, bookingId: failed.booking._id }),
    ]);
  });

  it('mail delivered, or deferred with its next try; never its content', async () => {
    // Only this test's message is due.
    await t.ctx.db.update(emailOutbox).set({ status: 'SENT' });
    const user = await createUser(t.ctx, { isVerified: false });
    expect(
      (await t.app.inject({ method: 'POST', url: `${API}/otp/send`, payload: { email: user.email } }))
        .statusCode,
    ).toBe(200);
    const failing: Mailer = {
      kind: 'smtp',
      send: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:2525');
      },
    };
    // The row is due from the database's now(); the test clock started when the module loaded, so catch it
    // up with real time first (a slow setup would otherwise leave the mail not yet due).
    clock.advance(Math.max(0, Date.now() - clock.now().getTime()) + 5_000);
    await sendDueEmails(t.ctx.db, failing, t.ctx.events, clock.now());
    expect(events('mail.deferred')).toEqual([
      expect.objectContaining({
        level: LEVEL.warn,
        template: 'otp',
        attempt: 1,
        retryInSeconds: 30,
        err: 'connect ECONNREFUSED 127.0.0.1:2525',
      }),
    ]);
    clock.advance(31_000);
    await sendDueEmails(t.ctx.db, t.ctx.mailer, t.ctx.events, clock.now());
    const [delivered] = events('mail.delivered');
    expect(delivered).toMatchObject({ level: LEVEL.info, template: 'otp', attempt: 2 });
    expect(String(delivered!.destination)).toMatch(/\.eml$/);
    const code = /code is (\d{6})/.exec(
      decodeMail(await readFile(String(delivered!.destination), 'utf8')),
    )![1]!;
    expect(raw()).not.toContain(code);
    expect(raw()).not.toContain(user.email);
  });

  it('an account locked after repeated wrong passwords, logged once per lock', async () => {
    const user = await createUser(t.ctx);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: `${API}/auth/login`,
        payload: { email: user.email, password: `Wrong-Password-${i}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(events('account.locked')).toEqual([
      expect.objectContaining({
        level: LEVEL.warn,
        userId: user.id,
        knownAccount: true,
        failures: 5,
        lockedSeconds: 30,
      }),
    ]);
    expect(raw()).not.toContain('Wrong-Password');
  });

  it('refresh-token reuse and revoked sessions; no token in the log', async () => {
    const user = await createUser(t.ctx);
    const refresh = (refreshToken: string) =>
      t.app.inject({ method: 'POST', url: `${API}/auth/refresh-token`, payload: { refreshToken } });
    const rotated = await refresh(user.refreshToken);
    expect(rotated.statusCode).toBe(200);
    clock.advance(2_000);
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
    expect(events('refresh_token.reused')).toEqual([
      expect.objectContaining({ level: LEVEL.warn, userId: user.id, sessionId: user.sessionId }),
    ]);

    const other = await createUser(t.ctx);
    const second = await t.app.inject({
      method: 'POST',
      url: `${API}/auth/login`,
      payload: { email: other.email, password: other.password },
    });
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `${API}/auth/sessions/${other.sessionId}`,
      headers: { authorization: `Bearer ${second.json().data.accessToken}` },
    });
    expect(revoked.statusCode).toBe(200);
    expect(events('session.revoked')).toEqual([
      expect.objectContaining({
        level: LEVEL.info,
        userId: other.id,
        sessionId: other.sessionId,
        reason: 'revoked_by_user',
      }),
    ]);

    const log = raw();
    for (const secret of [
      user.refreshToken,
      rotated.json().data.refreshToken,
      other.accessToken,
      second.json().data.accessToken,
      other.password,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
