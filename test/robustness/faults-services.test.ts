import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox } from '../../src/db/schema/index.js';
import { deliverDueEmails } from '../../src/lib/mail/outbox.js';
import { generateMissingInvoices } from '../../src/modules/payments/housekeeping.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, seatsBooked } from '../helpers/booking-fixtures.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser } from '../helpers/factories.js';
import { type FakeSslCommerz, startFakeSslCommerz } from '../helpers/fake-sslcommerz.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { expectConsistentBookings } from './invariants.js';

const HOUR_MS = 60 * 60 * 1000;

describe('the SMTP server is down', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await buildTestApp({ env: smtp.env });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  it('requests that send mail still succeed, and the mail goes out once the server is back', async () => {
    await smtp.stop();
    const owner = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    const booked = await bookThroughApi(t.app, owner, tour.id);
    expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    const forgot = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/forgot-password',
      payload: { email: owner.email },
    });
    expect(forgot.statusCode).toBe(200);
    await generateMissingInvoices(t.ctx, new Date());

    const failures: unknown[] = [];
    const send = (now: Date) =>
      deliverDueEmails(
        t.ctx.db,
        (row) => t.ctx.mailer.send(row),
        now,
        (_row, err) => failures.push(err),
      );
    expect(await send(new Date())).toBe(0);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const waiting = await t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, owner.email));
    expect(waiting.map((m) => m.status)).toEqual(['PENDING', 'PENDING']);

    await smtp.start();
    // The retry comes after a back-off; an hour later both are due.
    expect(await send(new Date(Date.now() + HOUR_MS))).toBe(2);
    const received = smtp.messages.filter((m) => m.to.includes(owner.email));
    expect(received).toHaveLength(2);
    expect(received.some((m) => m.raw.includes('invoice.pdf'))).toBe(true);
    expect(received.some((m) => m.raw.includes('reset-password'))).toBe(true);
    // Delivered once: a later run sends nothing again.
    expect(await send(new Date(Date.now() + 2 * HOUR_MS))).toBe(0);
    expect((await bookingState(t.ctx, booked.bookingId)).payment.status).toBe('PAID');
  });
});

describe('the payment gateway is down or slow', () => {
  let fake: FakeSslCommerz;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeSslCommerz();
    t = await buildTestApp({ env: { ...fake.env, GATEWAY_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it.each([
    ['down', 'down' as const],
    ['slower than the timeout', { slowMs: 1500 }],
  ])('parallel bookings while it is %s answer 502 quickly and hold no seats', async (_name, mode) => {
    fake.setSessionMode(mode);
    const tour = await createTour(t.ctx, { maxGuest: 100 });
    const users = await Promise.all(Array.from({ length: 8 }, () => createUser(t.ctx)));
    const started = Date.now();
    const results = await Promise.all(
      users.map((u) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/booking',
          headers: u.auth,
          payload: { tour: tour.id, guestCount: 2 },
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(4000);
    for (const res of results) {
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ success: false, code: 'UPSTREAM_ERROR' });
    }
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    await expectConsistentBookings(t.ctx.db);

    fake.setSessionMode('ok');
    const after = await bookThroughApi(t.app, users[0]!, tour.id, 2);
    expect(after.paymentUrl).toContain(fake.baseUrl);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(2);
  });

  it('an IPN that cannot be verified answers 502, keeps the hold, and is recorded when the gateway retries', async () => {
    fake.setSessionMode('ok');
    const owner = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 10 });
    const booked = await bookThroughApi(t.app, owner, tour.id, 3);
    const valId = fake.issueValId(booked.transactionId);
    const ipn = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/payment/validate-payment',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          tran_id: booked.transactionId,
          val_id: valId,
          status: 'VALID',
        }).toString(),
      });

    fake.setValidationMode('down');
    const failed = await ipn();
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toMatchObject({ success: false, code: 'UPSTREAM_ERROR' });
    let state = await bookingState(t.ctx, booked.bookingId);
    expect(state.booking.status).toBe('PENDING');
    expect(state.payment.status).toBe('UNPAID');
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);

    fake.setValidationMode('ok');
    expect((await ipn()).statusCode).toBe(200);
    state = await bookingState(t.ctx, booked.bookingId);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment.status).toBe('PAID');
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);
    await expectConsistentBookings(t.ctx.db);
  });
});
