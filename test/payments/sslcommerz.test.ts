import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox, paymentEvents, refunds } from '../../src/db/schema/index.js';
import { deliverDueEmails, type OutboxRow } from '../../src/lib/mail/outbox.js';
import { expireStaleHolds } from '../../src/modules/bookings/hold-sweeper.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { type FakeSslCommerz, startFakeSslCommerz } from '../helpers/fake-sslcommerz.js';
import { jobWorker } from '../helpers/refund-worker.js';

const clock = movableClock();
let t: TestApp;
let fake: FakeSslCommerz;

beforeAll(async () => {
  fake = await startFakeSslCommerz();
  t = await buildTestApp({ clock, env: { ...fake.env, GATEWAY_TIMEOUT_MS: '1500' } });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

interface Booked {
  user: TestUser;
  tourId: string;
  bookingId: string;
  paymentId: string;
  transactionId: string;
  amount: number;
}

const postBooking = (user: TestUser, tourId: string, guestCount: number) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tourId, guestCount },
  });

async function bookOne(options: { maxGuest?: number; guestCount?: number } = {}): Promise<Booked> {
  const user = await createUser(t.ctx);
  const tour = await createTour(t.ctx, { costFrom: 1200.25, maxGuest: options.maxGuest ?? 10 });
  const res = await postBooking(user, tour.id, options.guestCount ?? 2);
  expect(res.statusCode).toBe(201);
  const booking = res.json().data.booking;
  return {
    user,
    tourId: tour.id,
    bookingId: booking._id,
    paymentId: booking.payment._id,
    transactionId: booking.payment.transactionId,
    amount: booking.payment.amount,
  };
}

const postForm = (url: string, fields: Record<string, string>) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/payment${url}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

const successCallback = (b: Booked, valId: string, extra: Record<string, string> = {}) =>
  postForm(`/success?transactionId=${b.transactionId}`, {
    tran_id: b.transactionId,
    val_id: valId,
    amount: String(b.amount),
    currency: 'BDT',
    status: 'VALID',
    ...extra,
  });

/** The gateway's IPN (server-to-server notification) of a booking's payment. */
const ipnCallback = (b: Booked, valId: string) =>
  postForm('/validate-payment', { tran_id: b.transactionId, val_id: valId });

function location(res: { headers: Record<string, unknown> }) {
  return new URL(String(res.headers.location));
}

async function invoiceMails(paymentId: string) {
  return t.ctx.db
    .select()
    .from(emailOutbox)
    .where(eq(emailOutbox.dedupeKey, `invoice:${paymentId}`));
}

describe('SSLCommerz session init', () => {
  it('posts the legacy field set form-encoded and returns the GatewayPageURL', async () => {
    const b = await bookOne();
    const init = fake.initRequests.find((r) => r.fields.tran_id === b.transactionId);
    expect(init?.fields).toMatchObject({
      store_id: 'teststore',
      store_passwd: 'teststore@ssl',
      total_amount: '2400.50',
      currency: 'BDT',
      tran_id: b.transactionId,
      success_url: `http://api.test.local/api/v1/payment/success?transactionId=${b.transactionId}`,
      fail_url: `http://api.test.local/api/v1/payment/fail?transactionId=${b.transactionId}`,
      cancel_url: `http://api.test.local/api/v1/payment/cancel?transactionId=${b.transactionId}`,
      ipn_url: 'http://api.test.local/api/v1/payment/validate-payment',
      shipping_method: 'NO',
      product_category: 'Service',
      cus_email: b.user.email,
      cus_phone: '01712345678',
    });
  });

  it('answers 502 and holds no seats when the gateway refuses, is down or times out', async () => {
    for (const mode of ['refuse', 'down', { slowMs: 2500 }] as const) {
      fake.setSessionMode(mode);
      const user = await createUser(t.ctx);
      const tour = await createTour(t.ctx, { maxGuest: 3 });
      const res = await postBooking(user, tour.id, 3);
      expect(res.statusCode, JSON.stringify(mode)).toBe(502);
      expect(res.json()).toMatchObject({ success: false, code: 'UPSTREAM_ERROR' });
      expect(res.json().message).toMatch(/payment gateway/i);
      expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    }
    fake.setSessionMode('ok');
  });

  it('a slow gateway holds no transaction open and does not block other bookings', async () => {
    const slowUser = await createUser(t.ctx);
    const fastUser = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 2 });
    fake.setSessionMode({ slowMs: 1000 }, slowUser.email);
    let slowFinished = false;
    const slow = postBooking(slowUser, tour.id, 1).then((res) => {
      slowFinished = true;
      return res;
    });
    // Wait until the slow request is at the gateway, then book the same tour.
    while (!fake.initRequests.some((r) => r.fields.cus_email === slowUser.email)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const openTransactions = await t.ctx.db.execute(
      sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and state like 'idle in transaction%'`,
    );
    expect((openTransactions as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
    const fast = await postBooking(fastUser, tour.id, 1);
    expect(fast.statusCode).toBe(201);
    // The other booking of the same tour completed while the slow one was still waiting at the gateway.
    expect(slowFinished).toBe(false);
    expect((await slow).statusCode).toBe(201);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(2);
    fake.setSessionMode('ok');
  });

  it('answers 409 to a second request with an Idempotency-Key that is still running', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    fake.setSessionMode({ slowMs: 800 }, user.email);
    const headers = { ...user.auth, 'idempotency-key': 'slow-key' };
    const payload = { tour: tour.id, guestCount: 1 };
    const first = t.app.inject({ method: 'POST', url: '/api/v1/booking', headers, payload });
    while (!fake.initRequests.some((r) => r.fields.cus_email === user.email)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = await t.app.inject({ method: 'POST', url: '/api/v1/booking', headers, payload });
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('CONFLICT');
    const done = await first;
    expect(done.statusCode).toBe(201);
    const replay = await t.app.inject({ method: 'POST', url: '/api/v1/booking', headers, payload });
    expect(replay.json()).toEqual(done.json());
    expect(await seatsBooked(t.ctx, tour.id)).toBe(1);
    fake.setSessionMode('ok');
  });
});

describe('success callback verification', () => {
  it.each([
    ['forged val_id', () => 'made-up-val-id'],
    ['invalid transaction', (b: Booked) => fake.issueValId(b.transactionId, 'invalid')],
    ['wrong amount', (b: Booked) => fake.issueValId(b.transactionId, 'wrong-amount')],
    ['wrong currency', (b: Booked) => fake.issueValId(b.transactionId, 'wrong-currency')],
    ['another transaction', (b: Booked) => fake.issueValId(b.transactionId, 'other-tran')],
  ])('%s: booking stays PENDING, payment UNPAID, redirect to the fail page', async (_name, valIdFor) => {
    const b = await bookOne();
    const res = await successCallback(b, valIdFor(b));
    expect(res.statusCode).toBe(302);
    const to = location(res);
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/fail');
    expect(to.searchParams.get('status')).toBe('fail');
    expect(to.searchParams.get('transactionId')).toBe(b.transactionId);
    expect(to.searchParams.get('amount')).toBe('2400.5');
    expect(to.searchParams.get('message')).toMatch(/not verified/i);
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('PENDING');
    expect(state.payment.status).toBe('UNPAID');
    expect(await invoiceMails(b.paymentId)).toHaveLength(0);
  });

  it('a legacy query-only success call (no val_id) does not mark anything paid', async () => {
    const b = await bookOne();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/success?transactionId=${b.transactionId}&amount=${b.amount}&status=success`,
    });
    expect(res.statusCode).toBe(302);
    // Legacy clients expect the success page here; it says that nothing is confirmed.
    const to = location(res);
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/success');
    expect(to.searchParams.get('status')).toBe('pending');
    expect(to.searchParams.get('transactionId')).toBe(b.transactionId);
    expect(to.searchParams.get('amount')).toBe('2400.5');
    expect(to.searchParams.get('message')).toMatch(/being verified/);
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('PENDING');
    expect(state.payment.status).toBe('UNPAID');
  });

  it('an unknown transaction redirects to the fail page', async () => {
    const res = await postForm('/success', { tran_id: 'tran_unknown', val_id: 'x' });
    expect(res.statusCode).toBe(302);
    expect(location(res).pathname).toBe('/payment/fail');
    expect(location(res).searchParams.get('message')).toBe('Unknown transaction');
  });

  it('cannot be verified while the validation API is down: stays PENDING, success page says pending', async () => {
    const b = await bookOne();
    fake.setValidationMode('down');
    const res = await successCallback(b, fake.issueValId(b.transactionId));
    fake.setValidationMode('ok');
    expect(location(res).pathname).toBe('/payment/success');
    expect(location(res).searchParams.get('status')).toBe('pending');
    expect((await bookingState(t.ctx, b.bookingId)).payment.status).toBe('UNPAID');
  });

  it('a valid payment makes them COMPLETE/PAID; repeats and the IPN send exactly one invoice email', async () => {
    const b = await bookOne();
    const valId = fake.issueValId(b.transactionId, 'validated');
    const res = await successCallback(b, valId, { amount: '1' });
    expect(res.statusCode).toBe(302);
    const to = location(res);
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/success');
    expect(Object.fromEntries(to.searchParams)).toEqual({
      transactionId: b.transactionId,
      message: 'Payment Completed Successfully',
      amount: '2400.5',
      status: 'success',
    });
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment).toMatchObject({ status: 'PAID', valId, gatewayStatus: 'VALIDATED' });
    // The gateway's id of the money movement is kept: refunds are made against it.
    const validated = fake.validationRequests.at(-1)!;
    expect(validated.get('val_id')).toBe(valId);
    expect(state.payment.bankTranId).toMatch(/^[0-9A-F]{12}$/);
    expect(state.payment.bankTranId).toBe(state.payment.gatewayData?.bank_tran_id);
    expect(state.payment.invoiceKey).toBe(`invoices/${b.paymentId}.pdf`);

    // The same callback again, concurrently with the IPN.
    const [repeat, ipn] = await Promise.all([
      successCallback(b, valId),
      postForm('/validate-payment', { tran_id: b.transactionId, val_id: valId, status: 'VALID' }),
    ]);
    expect(location(repeat).pathname).toBe('/payment/success');
    expect(ipn.statusCode).toBe(200);
    expect(ipn.json()).toMatchObject({ success: true, data: null });

    expect(await invoiceMails(b.paymentId)).toHaveLength(1);
    const sent: OutboxRow[] = [];
    await deliverDueEmails(
      t.ctx.db,
      async (row) => void sent.push(row),
      clock.now(),
      () => undefined,
    );
    const mine = sent.filter((r) => r.dedupeKey === `invoice:${b.paymentId}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ to: b.user.email, subject: 'Your Booking Invoice' });
    expect(mine[0]!.attachments).toEqual([
      { filename: 'invoice.pdf', contentType: 'application/pdf', storageKey: `invoices/${b.paymentId}.pdf` },
    ]);
    expect(mine[0]!.text).toContain('BDT 2,400.50');
    const pdf = await t.ctx.storage.get(`invoices/${b.paymentId}.pdf`);
    expect(pdf?.subarray(0, 5).toString()).toBe('%PDF-');

    // A late fail or cancel never moves a PAID payment backwards.
    const cancel = await postForm(`/cancel?transactionId=${b.transactionId}`, { tran_id: b.transactionId });
    expect(location(cancel).pathname).toBe('/payment/success');
    const after = await bookingState(t.ctx, b.bookingId);
    expect(after.payment.status).toBe('PAID');
    expect(after.booking.status).toBe('COMPLETE');
  });
});

describe('IPN /payment/validate-payment', () => {
  it('makes the booking paid even if the browser never returns', async () => {
    const b = await bookOne();
    const res = await ipnCallback(b, fake.issueValId(b.transactionId));
    expect(res.statusCode).toBe(200);
    expect(res.json().message).toBe('Payment Validated Successfully');
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment.status).toBe('PAID');
  });

  it('answers 400 PAYMENT_NOT_VERIFIED for a wrong amount and 404 for an unknown transaction', async () => {
    const b = await bookOne();
    const wrong = await ipnCallback(b, fake.issueValId(b.transactionId, 'wrong-amount'));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('PAYMENT_NOT_VERIFIED');
    expect((await bookingState(t.ctx, b.bookingId)).payment.status).toBe('UNPAID');
    const unknown = await postForm('/validate-payment', { tran_id: 'tran_nope', val_id: 'x' });
    expect(unknown.statusCode).toBe(404);
    const events = await t.ctx.db
      .select()
      .from(paymentEvents)
      .where(eq(paymentEvents.paymentId, b.paymentId));
    expect(events.map((e) => e.outcome)).toContain('REJECTED');
  });
});

describe('fail and cancel callbacks', () => {
  it('a failed payment keeps the booking PENDING with its seats held, and it can be paid again in a new session', async () => {
    const b = await bookOne({ maxGuest: 4, guestCount: 3 });
    fake.setTransactionStatus(b.transactionId, 'FAILED');
    const res = await postForm(`/fail?transactionId=${b.transactionId}`, { tran_id: b.transactionId });
    expect(res.statusCode).toBe(302);
    const to = location(res);
    expect(to.pathname).toBe('/payment/fail');
    expect(to.searchParams.get('status')).toBe('fail');
    const state = await bookingState(t.ctx, b.bookingId);
    expect(to.searchParams.get('message')).toBe(
      `Payment Failed: no money was taken. Your seats stay held until ${state.booking.holdExpiresAt.toISOString()}, ` +
        'so you can still pay for this booking until then',
    );
    expect(state.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect(state.payment.status).toBe('UNPAID');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(3);
    const recorded = await t.ctx.db
      .select()
      .from(paymentEvents)
      .where(eq(paymentEvents.paymentId, b.paymentId));
    expect(recorded.map((e) => e.outcome)).toContain('FAIL');

    // The traveller tries again: a new session under a transaction id of its own, paid, confirmed.
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/init-payment/${b.bookingId}`,
      headers: b.user.auth,
    });
    expect(retry.statusCode).toBe(201);
    const second = fake.initRequests.at(-1)!.fields.tran_id!;
    expect(second).not.toBe(b.transactionId);
    expect(retry.json().data.paymentUrl).toContain(encodeURIComponent(second));
    const paid = await successCallback({ ...b, transactionId: second }, fake.issueValId(second));
    expect(location(paid).searchParams.get('message')).toBe('Payment Completed Successfully');
    expect(location(paid).searchParams.get('transactionId')).toBe(second);
    const after = await bookingState(t.ctx, b.bookingId);
    expect(after.booking.status).toBe('COMPLETE');
    expect(after.payment.status).toBe('PAID');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(3);
  });

  it('a cancelled payment keeps the booking PENDING until its hold runs out, then it ends as usual', async () => {
    const b = await bookOne({ maxGuest: 2, guestCount: 2 });
    fake.setTransactionStatus(b.transactionId, 'CANCELLED');
    const res = await postForm(`/cancel?transactionId=${b.transactionId}`, {});
    expect(location(res).pathname).toBe('/payment/cancel');
    expect(location(res).searchParams.get('status')).toBe('cancel');
    expect(location(res).searchParams.get('message')).toMatch(/^Payment Cancelled: .*can still pay/);
    expect((await bookingState(t.ctx, b.bookingId)).booking).toMatchObject({
      status: 'PENDING',
      seatsHeld: true,
    });
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/init-payment/${b.bookingId}`,
      headers: b.user.auth,
    });
    expect(again.statusCode).toBe(201);

    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking).toMatchObject({ status: 'FAILED', seatsHeld: false });
    expect(state.payment.status).toBe('FAILED');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
    const late = await postForm(`/cancel?transactionId=${b.transactionId}`, {});
    expect(location(late).searchParams.get('message')).toBe(
      'Payment Cancelled: no money was taken for this booking',
    );
  });

  it('an unknown transaction goes to the fail page', async () => {
    const res = await postForm('/cancel', { tran_id: 'tran_missing' });
    expect(location(res).pathname).toBe('/payment/fail');
  });

  it('the gateway is asked by transaction id, with the store credentials', async () => {
    const b = await bookOne();
    fake.setTransactionStatus(b.transactionId, 'FAILED');
    await postForm(`/fail?transactionId=${b.transactionId}`, { tran_id: b.transactionId });
    const asked = fake.transactionQueryRequests.filter((q) => q.get('tran_id') === b.transactionId);
    expect(asked.map((q) => Object.fromEntries(q))).toEqual([
      { tran_id: b.transactionId, store_id: 'teststore', store_passwd: 'teststore@ssl', format: 'json' },
    ]);
  });

  it.each([
    ['the gateway still has the session open', ['PENDING']],
    ['the gateway knows nothing of it', []],
    ['the gateway has a valid payment for it', ['FAILED', 'VALID']],
  ])(
    'a forged fail or cancel (%s) leaves the booking PENDING and its seats held',
    async (_name, statuses) => {
      const b = await bookOne({ maxGuest: 3, guestCount: 3 });
      if (statuses.length > 0) fake.setTransactionStatus(b.transactionId, ...statuses);
      else fake.setTransactionStatus(b.transactionId);
      for (const kind of ['fail', 'cancel'] as const) {
        const res = await postForm(`/${kind}?transactionId=${b.transactionId}`, {
          tran_id: b.transactionId,
          status: kind === 'fail' ? 'FAILED' : 'CANCELLED',
        });
        expect(res.statusCode).toBe(302);
        const to = location(res);
        expect(`${to.origin}${to.pathname}`).toBe(`http://localhost:3000/payment/${kind}`);
        expect(to.searchParams.get('status')).toBe(kind);
        expect(to.searchParams.get('message')).toMatch(
          kind === 'fail' ? /^Payment Failed/ : /^Payment Cancelled/,
        );
      }
      const state = await bookingState(t.ctx, b.bookingId);
      expect(state.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
      expect(state.payment.status).toBe('UNPAID');
      expect(await seatsBooked(t.ctx, b.tourId)).toBe(3);
    },
  );

  it('a fail or cancel the gateway cannot confirm (query API down) changes nothing; the hold expires as usual', async () => {
    const b = await bookOne({ maxGuest: 2, guestCount: 2 });
    fake.setTransactionStatus(b.transactionId, 'CANCELLED');
    fake.setValidationMode('down');
    const res = await postForm(`/cancel?transactionId=${b.transactionId}`, { tran_id: b.transactionId });
    fake.setValidationMode('ok');
    expect(location(res).pathname).toBe('/payment/cancel');
    expect((await bookingState(t.ctx, b.bookingId)).booking.status).toBe('PENDING');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);

    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('FAILED');
    expect(state.payment.status).toBe('FAILED');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
  });
});

describe('late payments for expired holds', () => {
  it('are recorded as PAID, seats held again when free, and flagged for review', async () => {
    const b = await bookOne({ maxGuest: 2, guestCount: 2 });
    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
    const res = await successCallback(b, fake.issueValId(b.transactionId));
    expect(location(res).pathname).toBe('/payment/success');
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.payment.status).toBe('PAID');
    expect(state.booking).toMatchObject({ status: 'COMPLETE', seatsHeld: true });
    expect(state.booking.needsReview).toMatch(/Paid after the booking was FAILED/);
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);
    expect(await invoiceMails(b.paymentId)).toHaveLength(1);
  });

  it('are refunded in full automatically when the tour has sold out meanwhile', async () => {
    const b = await bookOne({ maxGuest: 2, guestCount: 2 });
    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    const taken = await postBooking(await createUser(t.ctx), b.tourId, 2);
    expect(taken.statusCode).toBe(201);
    await ipnCallback(b, fake.issueValId(b.transactionId));
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.payment.status).toBe('PAID');
    expect(state.booking.status).toBe('FAILED');
    expect(state.booking.needsReview).toBeNull();
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);
    const [refund] = await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId));
    expect(refund).toMatchObject({
      paymentId: b.paymentId,
      amountMinor: 240_050,
      status: 'REQUESTED',
      requestedBy: null,
      reason: expect.stringMatching(/^late payment/),
    });

    // The worker gives the money back through SSLCommerz.
    const runJobs = jobWorker(t.app);
    await runJobs(clock.now());
    await runJobs(new Date(clock.now().getTime() + 3600_000));
    expect((await bookingState(t.ctx, b.bookingId)).payment).toMatchObject({
      status: 'REFUNDED',
      refundedMinor: 240_050,
    });
    expect(fake.refunds.filter((r) => r.tranId === b.transactionId)).toHaveLength(1);
  });
});

async function mailsTo(email: string) {
  return t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email));
}

const setStatus = (bookingId: string, status: string, user: TestUser) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/booking/${bookingId}/status`,
    headers: user.auth,
    payload: { status },
  });

describe('late payments for cancelled bookings whose seats are gone', () => {
  it('are recorded and refunded in full; the customer is told the booking could not be confirmed', async () => {
    const b = await bookOne({ maxGuest: 2, guestCount: 2 });
    expect((await setStatus(b.bookingId, 'CANCEL', b.user)).statusCode).toBe(200);
    const taken = await postBooking(await createUser(t.ctx), b.tourId, 2);
    expect(taken.statusCode).toBe(201);

    const valId = fake.issueValId(b.transactionId);
    const res = await successCallback(b, valId);
    expect(res.statusCode).toBe(302);
    const to = location(res);
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/fail');
    expect(to.searchParams.get('status')).toBe('fail');
    expect(to.searchParams.get('transactionId')).toBe(b.transactionId);
    expect(to.searchParams.get('amount')).toBe('2400.5');
    const message = to.searchParams.get('message') ?? '';
    expect(message).toMatch(/payment was received/i);
    expect(message).toMatch(/could not be confirmed/i);
    expect(message).toMatch(/refunded automatically/i);

    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.payment.status).toBe('PAID');
    expect(state.booking.status).toBe('CANCEL');
    expect(state.booking.needsReview).toBeNull();
    const late = await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId));
    expect(late).toMatchObject([{ amountMinor: 240_050, status: 'REQUESTED', requestedBy: null }]);
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);

    // The repeat, the IPN and a late cancel say the same; one mail, and it does not say "confirmed".
    const [repeat, ipn, cancel] = await Promise.all([
      successCallback(b, valId),
      ipnCallback(b, valId),
      postForm(`/cancel?transactionId=${b.transactionId}`, { tran_id: b.transactionId }),
    ]);
    expect(ipn.statusCode).toBe(200);
    for (const again of [repeat, cancel]) {
      expect(location(again).pathname).toBe('/payment/fail');
      expect(location(again).searchParams.get('message')).toBe(message);
    }
    expect(await invoiceMails(b.paymentId)).toHaveLength(0);
    const mails = await mailsTo(b.user.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/not confirmed/i);
    expect(mails[0]!.text).toMatch(/could not be confirmed/);
    expect(mails[0]!.text).toMatch(/refund of BDT 2,400\.50/);
    // Only one refund, however many times the payment was reported.
    expect(await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId))).toHaveLength(1);
    expect(mails[0]!.text).toContain('BDT 2,400.50');
    expect(`${mails[0]!.text}\n${mails[0]!.html}`).not.toMatch(/is confirmed/);
  });
});

describe('payments the gateway marks risky (risk_level 1)', () => {
  async function paidRisky(options: { maxGuest?: number; guestCount?: number } = {}) {
    const b = await bookOne(options);
    const valId = fake.issueValId(b.transactionId, 'risky');
    const res = await successCallback(b, valId);
    return { b, res, valId };
  }

  it('wait for an admin: flagged, seats kept past the hold, the customer told it is under review', async () => {
    const { b, res, valId } = await paidRisky({ maxGuest: 2, guestCount: 2 });
    expect(res.statusCode).toBe(302);
    const to = location(res);
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/success');
    expect(to.searchParams.get('status')).toBe('pending');
    expect(to.searchParams.get('amount')).toBe('2400.5');
    expect(to.searchParams.get('message')).toMatch(/under review/i);

    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.payment).toMatchObject({ status: 'PAID', gatewayStatus: 'VALID' });
    expect(state.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect(state.booking.needsReview).toMatch(/risk/i);
    expect(await invoiceMails(b.paymentId)).toHaveLength(0);
    const mails = await mailsTo(b.user.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/under review/i);
    expect(`${mails[0]!.text}\n${mails[0]!.html}`).not.toMatch(/confirmed/i);

    // Nothing but an admin moves it: not the owner, not a browser callback, not the IPN repeated.
    const ownerCancel = await setStatus(b.bookingId, 'CANCEL', b.user);
    expect(ownerCancel.statusCode).toBe(409);
    expect(ownerCancel.json().message).toMatch(/under review/i);
    fake.setTransactionStatus(b.transactionId, 'CANCELLED');
    const cancel = await postForm(`/cancel?transactionId=${b.transactionId}`, { tran_id: b.transactionId });
    expect(location(cancel).pathname).toBe('/payment/success');
    expect(location(cancel).searchParams.get('status')).toBe('pending');
    const ipn = await ipnCallback(b, valId);
    expect(ipn.statusCode).toBe(200);
    expect((await bookingState(t.ctx, b.bookingId)).booking.status).toBe('PENDING');
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);
    expect(await mailsTo(b.user.email)).toHaveLength(1);

    // The hold does not run out while the payment is under review.
    clock.advance(2 * 60 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    expect((await bookingState(t.ctx, b.bookingId)).booking).toMatchObject({
      status: 'PENDING',
      seatsHeld: true,
    });
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);
  });

  it('an admin approves with PATCH /booking/:id/status COMPLETE: confirmed with the invoice', async () => {
    const { b, valId } = await paidRisky();
    const admin = await createUser(t.ctx, { role: 'ADMIN' });
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking?_id=${b.bookingId}`,
      headers: admin.auth,
    });
    expect(listed.json().data.data[0]).toMatchObject({
      status: 'PENDING',
      payment: { status: 'PAID' },
      needsReview: expect.stringMatching(/risk/i),
    });

    const approved = await setStatus(b.bookingId, 'COMPLETE', admin);
    expect(approved.statusCode).toBe(200);
    expect(approved.json().data).toMatchObject({
      status: 'COMPLETE',
      payment: { status: 'PAID' },
      needsReview: null,
    });
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);
    expect(await invoiceMails(b.paymentId)).toHaveLength(1);
    expect((await invoiceMails(b.paymentId))[0]!.text).toMatch(/is confirmed/);
    const pdf = await t.ctx.storage.get(`invoices/${b.paymentId}.pdf`);
    expect(pdf?.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await setStatus(b.bookingId, 'COMPLETE', admin)).statusCode).toBe(409);

    // The customer's next return shows the booking as paid.
    const back = await successCallback(b, valId);
    expect(location(back).searchParams.get('status')).toBe('success');
  });

  it('an admin rejects with CANCEL or FAILED: seats released and the payment refunded in full', async () => {
    const { b } = await paidRisky({ maxGuest: 3, guestCount: 3 });
    const admin = await createUser(t.ctx, { role: 'ADMIN' });
    const rejected = await setStatus(b.bookingId, 'CANCEL', admin);
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json().data).toMatchObject({
      status: 'CANCEL',
      payment: { status: 'PAID' },
      needsReview: null,
      refunds: [{ amount: 3600.75, status: 'REQUESTED', reason: 'payment rejected after review' }],
    });
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
    const failed = (await paidRisky({ maxGuest: 1, guestCount: 1 })).b;
    const rejectedAsFailed = await setStatus(failed.bookingId, 'FAILED', admin);
    expect(rejectedAsFailed.json().data).toMatchObject({
      status: 'FAILED',
      refunds: [{ amount: 1200.25, status: 'REQUESTED' }],
    });
    expect(await invoiceMails(b.paymentId)).toHaveLength(0);
    expect((await setStatus(b.bookingId, 'COMPLETE', admin)).statusCode).toBe(409);
  });

  it('through the IPN alone is held for review the same way', async () => {
    const b = await bookOne();
    const ipn = await ipnCallback(b, fake.issueValId(b.transactionId, 'risky'));
    expect(ipn.statusCode).toBe(200);
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('PENDING');
    expect(state.booking.needsReview).toMatch(/risk/i);
    expect(state.payment.status).toBe('PAID');
  });
});
