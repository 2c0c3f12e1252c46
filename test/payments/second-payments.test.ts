import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox, paymentEvents, refunds } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { type FakeSslCommerz, startFakeSslCommerz } from '../helpers/fake-sslcommerz.js';
import { jobWorker, refundRow } from '../helpers/refund-worker.js';

/*
 * What a payer is told, and what becomes of the money, when a booking is paid twice (two gateway sessions,
 * or two payments under one transaction id) and when a callback is repeated after the booking moved on.
 */

const clock = movableClock();
const later = (seconds: number) => {
  clock.advance(seconds * 1000);
  return clock.now();
};
let t: TestApp;
let fake: FakeSslCommerz;
let runJobs: ReturnType<typeof jobWorker>;

beforeAll(async () => {
  fake = await startFakeSslCommerz();
  t = await buildTestApp({
    clock,
    env: { ...fake.env, GATEWAY_TIMEOUT_MS: '1500', JWT_ACCESS_EXPIRES: '30d' },
  });
  runJobs = jobWorker(t.app);
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
}

/** A booking of 2 guests at 1200.25 on a departure `startsInHours` from now. */
async function bookOne(startsInHours = 30 * 24): Promise<Booked> {
  const user = await createUser(t.ctx);
  const tour = await createTour(t.ctx, {
    costFrom: 1200.25,
    maxGuest: 10,
    startDate: new Date(clock.now().getTime() + startsInHours * 3600_000),
  });
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tour.id, guestCount: 2 },
  });
  expect(res.statusCode).toBe(201);
  const booking = res.json().data.booking;
  return {
    user,
    tourId: tour.id,
    bookingId: booking._id,
    paymentId: booking.payment._id,
    transactionId: booking.payment.transactionId,
  };
}

/** Another gateway session for the booking (a second tab, a retry): its transaction id. */
async function anotherSession(b: Booked): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/payment/init-payment/${b.bookingId}`,
    headers: b.user.auth,
  });
  expect(res.statusCode).toBe(201);
  const tranId = fake.initRequests.at(-1)!.fields.tran_id!;
  expect(res.json().data.paymentUrl).toContain(encodeURIComponent(tranId));
  return tranId;
}

/** The browser back from the gateway after paying under `tranId`, with the gateway's `valId`. */
async function paid(tranId: string, valId: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/payment/success?transactionId=${tranId}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ tran_id: tranId, val_id: valId, status: 'VALID' }).toString(),
  });
  expect(res.statusCode).toBe(302);
  const to = new URL(String(res.headers.location));
  return { page: to.pathname, ...Object.fromEntries(to.searchParams) } as Record<string, string>;
}

const refundsOf = (bookingId: string) =>
  t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, bookingId));
const mailsTo = async (email: string, template: string) =>
  (await t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email))).filter(
    (m) => m.template === template,
  );
/** The gateway's id of the money movement a val_id paid, as its validation was recorded. */
async function bankTranIdOf(valId: string): Promise<string> {
  const [event] = await t.ctx.db
    .select()
    .from(paymentEvents)
    .where(eq(paymentEvents.eventKey, `validated:${valId}`));
  return event!.payload.bank_tran_id as string;
}

describe('a booking paid twice', () => {
  it('two sessions get their own transaction ids; the second payment is recorded and refunded in full', async () => {
    const b = await bookOne();
    const second = await anotherSession(b);
    expect(second).not.toBe(b.transactionId);

    const firstValId = fake.issueValId(b.transactionId);
    const secondValId = fake.issueValId(second);
    expect(await paid(b.transactionId, firstValId)).toMatchObject({
      page: '/payment/success',
      status: 'success',
      message: 'Payment Completed Successfully',
    });
    const told = await paid(second, secondValId);
    expect(told).toMatchObject({
      page: '/payment/success',
      status: 'duplicate',
      transactionId: second,
      amount: '2400.5',
      message:
        'This booking was already paid, so this second payment was not needed and is not kept: BDT 2,400.50 ' +
        'is being refunded automatically',
    });

    // The booking keeps its one payment; the second is on record and on its way back.
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment).toMatchObject({ status: 'PAID', valId: firstValId, refundedMinor: 0 });
    const [refund, ...others] = await refundsOf(b.bookingId);
    expect(others).toEqual([]);
    expect(refund).toMatchObject({
      amountMinor: 240_050,
      status: 'REQUESTED',
      requestedBy: null,
      duplicateValId: secondValId,
      duplicateTranId: second,
      duplicateBankTranId: await bankTranIdOf(secondValId),
    });
    expect(refund!.reason).toMatch(/^duplicate payment/);
    const recorded = await t.ctx.db
      .select()
      .from(paymentEvents)
      .where(eq(paymentEvents.eventKey, `validated:${secondValId}`));
    expect(recorded[0]).toMatchObject({ outcome: 'DUPLICATE', paymentId: b.paymentId });
    const mails = await mailsTo(b.user.email, 'duplicate-payment-refund');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toMatch(/second payment/);
    expect(mails[0]!.text).toContain('BDT 2,400.50');
    // The customer and admins see the refund with the booking.
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking/${b.bookingId}/refunds`,
      headers: b.user.auth,
    });
    expect(listed.json().data).toEqual([expect.objectContaining({ _id: refund!.id, amount: 2400.5 })]);

    // The gateway refunds the second payment's own money movement; the booking's payment is untouched.
    expect(await runJobs(clock.now())).toMatchObject({ rescheduled: 1 });
    expect(await runJobs(later(60))).toMatchObject({ done: 1 });
    expect(fake.refunds.map((r) => r.bankTranId)).toContain(refund!.duplicateBankTranId);
    expect(fake.refunds.map((r) => r.bankTranId)).not.toContain(state.payment.bankTranId);
    expect((await refundRow(t.ctx, refund!.id)).status).toBe('REFUNDED');
    const after = await bookingState(t.ctx, b.bookingId);
    expect(after.booking.status).toBe('COMPLETE');
    expect(after.payment).toMatchObject({ status: 'PAID', refundedMinor: 0 });
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(2);

    // Repeats change nothing and say what happened to each payment.
    expect((await paid(second, secondValId)).message).toMatch(
      /second payment .* BDT 2,400\.50 has been refunded$/,
    );
    expect((await paid(b.transactionId, firstValId)).message).toBe('Payment Completed Successfully');
    expect(await refundsOf(b.bookingId)).toHaveLength(1);
    expect(await mailsTo(b.user.email, 'duplicate-payment-refund')).toHaveLength(1);
  });

  it('two payments under one transaction id (a session opened twice) are told apart by val_id', async () => {
    const b = await bookOne();
    const firstValId = fake.issueValId(b.transactionId);
    const secondValId = fake.issueValId(b.transactionId);
    await paid(b.transactionId, firstValId);
    // Through the IPN, as the gateway reports it.
    const ipn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/payment/validate-payment',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ tran_id: b.transactionId, val_id: secondValId }).toString(),
    });
    expect(ipn.statusCode).toBe(200);
    const told = await paid(b.transactionId, secondValId);
    expect(told.status).toBe('duplicate');
    expect(told.message).toMatch(/^This booking was already paid/);
    const rows = await refundsOf(b.bookingId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ duplicateValId: secondValId, amountMinor: 240_050 });
  });
});

describe('a repeated success callback after the booking moved on', () => {
  async function paidThenCancelled(startsInHours: number) {
    const b = await bookOne(startsInHours);
    const valId = fake.issueValId(b.transactionId);
    expect((await paid(b.transactionId, valId)).status).toBe('success');
    const cancelled = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${b.bookingId}/cancel`,
      headers: b.user.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    return { b, valId, refund: cancelled.json().data.refund };
  }

  it('says no refund is due when the cancellation policy gave none, never a full refund', async () => {
    // Cancelled a day before the start: the default policy refunds nothing.
    const { b, valId, refund } = await paidThenCancelled(24);
    expect(refund).toBeNull();
    const told = await paid(b.transactionId, valId);
    expect(told).toMatchObject({
      page: '/payment/fail',
      message:
        'Payment was received; the booking has since been cancelled and no refund was due under its ' +
        'cancellation policy',
    });
    expect(told.message).not.toMatch(/refunded/);
    expect(await refundsOf(b.bookingId)).toEqual([]);
  });

  it('says how much is being refunded, as the cancellation decided it', async () => {
    // Three days before the start: half of the payment.
    const { b, valId, refund } = await paidThenCancelled(72);
    expect(refund).toMatchObject({ amount: 1200.25 });
    expect((await paid(b.transactionId, valId)).message).toBe(
      'Payment was received; the booking has since been cancelled and BDT 1,200.25 is being refunded automatically',
    );
    await runJobs(clock.now());
    await runJobs(later(60));
    expect((await paid(b.transactionId, valId)).message).toBe(
      'Payment was received; the booking has since been cancelled and BDT 1,200.25 has been refunded',
    );
  });
});
