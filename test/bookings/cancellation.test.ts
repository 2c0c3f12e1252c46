import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox, refunds } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { jobWorker } from '../helpers/refund-worker.js';

const HOUR = 60 * 60 * 1000;
const clock = movableClock();
let t: TestApp;
let admin: TestUser;
let stranger: TestUser;
let runJobs: ReturnType<typeof jobWorker>;

beforeAll(async () => {
  t = await buildTestApp({ clock, env: { MAX_ACTIVE_HOLDS_PER_USER: '100' } });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  stranger = await createUser(t.ctx);
  runJobs = jobWorker(t.app);
});
afterAll(() => t?.close());

/** A tour starting `startsIn` ms from the test clock's now, 1000.00 BDT a guest. */
const tourStartingIn = (startsIn: number, maxGuest = 10) =>
  createTour(t.ctx, { costFrom: 1000, maxGuest, startDate: new Date(clock.now().getTime() + startsIn) });

async function paidBooking(options: { startsIn?: number; guests?: number; owner?: TestUser } = {}) {
  const owner = options.owner ?? (await createUser(t.ctx));
  const tour = await tourStartingIn(options.startsIn ?? 30 * 24 * HOUR);
  const booked = await bookThroughApi(t.app, owner, tour.id, options.guests ?? 2);
  expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
  expect((await bookingState(t.ctx, booked.bookingId)).booking.status).toBe('COMPLETE');
  return { ...booked, owner, tourId: tour.id };
}

const cancel = (bookingId: string, user: TestUser, body?: object) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/booking/${bookingId}/cancel`,
    headers: user.auth,
    ...(body ? { payload: body } : {}),
  });
const get = (url: string, user: TestUser) =>
  t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: user.auth });
const mailsTo = (email: string) => t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email));

describe('POST /booking/:bookingId/cancel', () => {
  it('cancels a pending booking for its owner: seats released, payment CANCELLED, no refund, no mail', async () => {
    const owner = await createUser(t.ctx);
    const tour = await tourStartingIn(30 * 24 * HOUR, 4);
    const booked = await bookThroughApi(t.app, owner, tour.id, 4);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(4);
    const res = await cancel(booked.bookingId, owner, { reason: 'Changed plans' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      booking: { _id: booked.bookingId, status: 'CANCEL', payment: { status: 'CANCELLED' } },
      refund: null,
    });
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    expect(await mailsTo(owner.email)).toHaveLength(0);
    const again = await cancel(booked.bookingId, owner);
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/already cancelled/);
  });

  it('cancels a paid booking with the refund its policy gives; the worker carries it out through the gateway', async () => {
    const b = await paidBooking({ guests: 3 });
    const before = await get(`/booking/${b.bookingId}`, b.owner);
    expect(before.json().data).toMatchObject({
      cancellationPolicy: [
        { hoursBefore: 168, refundPercent: 100 },
        { hoursBefore: 48, refundPercent: 50 },
        { hoursBefore: 0, refundPercent: 0 },
      ],
      refundIfCancelledNow: 3000,
      payment: { refundedAmount: 0, status: 'PAID' },
    });

    const res = await cancel(b.bookingId, b.owner);
    expect(res.statusCode).toBe(200);
    const { booking, refund } = res.json().data;
    expect(booking).toMatchObject({ status: 'CANCEL', refundIfCancelledNow: null });
    expect(refund).toMatchObject({
      booking: b.bookingId,
      payment: b.paymentId,
      amount: 3000,
      currency: 'BDT',
      status: 'REQUESTED',
      reason: 'cancelled by the customer',
      requestedBy: b.owner.id,
      gatewayRefundId: null,
      failureReason: null,
    });
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
    const issued = (await mailsTo(b.owner.email)).filter((m) => m.template === 'refund-issued');
    expect(issued).toHaveLength(1);
    expect(issued[0]!.text).toContain('BDT 3,000.00');

    expect(await runJobs(clock.now())).toMatchObject({ claimed: 1, done: 1 });
    const after = await get(`/booking/${b.bookingId}`, admin);
    expect(after.json().data).toMatchObject({
      status: 'CANCEL',
      payment: { status: 'REFUNDED', refundedAmount: 3000, amount: 3000 },
      needsReview: null,
      refunds: [{ _id: refund._id, status: 'REFUNDED', amount: 3000 }],
    });
    expect(after.json().data.refunds[0].gatewayRefundId).toMatch(/^local-refund\./);
    const completed = (await mailsTo(b.owner.email)).filter((m) => m.template === 'refund-completed');
    expect(completed).toHaveLength(1);
    // Run again: nothing left to do, nothing refunded twice.
    expect(await runJobs(new Date(clock.now().getTime() + HOUR))).toMatchObject({ claimed: 0 });
  });

  it.each([
    ['exactly 168 h before the start', 168 * HOUR, 2000],
    ['just under 168 h before', 168 * HOUR - 1000, 1000],
    ['exactly 48 h before', 48 * HOUR, 1000],
    ['just under 48 h before', 48 * HOUR - 1000, null],
  ])('refunds by the policy tier in force %s', async (_when, startsIn, expected) => {
    // The test clock stands still: the cancellation happens exactly `startsIn` before the start.
    const b = await paidBooking({ startsIn });
    const shown = (await get(`/booking/${b.bookingId}`, b.owner)).json().data.refundIfCancelledNow;
    expect(shown).toBe(expected ?? 0);
    const res = await cancel(b.bookingId, b.owner);
    expect(res.statusCode).toBe(200);
    if (expected === null) {
      expect(res.json().data.refund).toBeNull();
      expect(await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId))).toEqual([]);
      const mails = (await mailsTo(b.owner.email)).map((m) => m.template);
      expect(mails).toContain('booking-cancelled-no-refund');
    } else {
      expect(res.json().data.refund.amount).toBe(expected);
    }
  });

  it("keeps the policy the booking was paid under when the tour's policy changes later", async () => {
    const b = await paidBooking({ startsIn: 72 * HOUR });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${b.tourId}`,
      headers: admin.auth,
      payload: { cancellationPolicy: [{ hoursBefore: 0, refundPercent: 100 }] },
    });
    expect(patched.statusCode).toBe(200);
    const res = await cancel(b.bookingId, b.owner);
    expect(res.json().data.refund.amount).toBe(1000);
    expect(res.json().data.booking.cancellationPolicy).toHaveLength(3);
  });

  it('lets an admin choose the refund amount, up to what was paid and with a reason', async () => {
    const b = await paidBooking();
    const tooMuch = await cancel(b.bookingId, admin, { refundAmount: 2000.01, reason: 'Goodwill' });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().errorSources[0].path).toBe('refundAmount');
    const noReason = await cancel(b.bookingId, admin, { refundAmount: 100 });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().errorSources[0].path).toBe('reason');
    const negative = await cancel(b.bookingId, admin, { refundAmount: -1, reason: 'x' });
    expect(negative.statusCode).toBe(400);
    expect(negative.json().errorSources[0].path).toBe('refundAmount');
    const byOwner = await cancel(b.bookingId, b.owner, { refundAmount: 2000, reason: 'Please' });
    expect(byOwner.statusCode).toBe(403);
    expect((await bookingState(t.ctx, b.bookingId)).booking.status).toBe('COMPLETE');

    const exact = await cancel(b.bookingId, admin, { refundAmount: 2000, reason: 'Operator goodwill' });
    expect(exact.statusCode).toBe(200);
    expect(exact.json().data.refund).toMatchObject({
      amount: 2000,
      reason: 'Operator goodwill',
      requestedBy: admin.id,
    });
    expect(exact.json().data.booking.refunds).toHaveLength(1);

    const partial = await paidBooking();
    const res = await cancel(partial.bookingId, admin, { refundAmount: 150.5, reason: 'Partial' });
    expect(res.json().data.refund.amount).toBe(150.5);
    await runJobs(clock.now());
    const state = await bookingState(t.ctx, partial.bookingId);
    expect(state.payment).toMatchObject({ status: 'PAID', refundedMinor: 15_050 });
    const zero = await paidBooking();
    const none = await cancel(zero.bookingId, admin, { refundAmount: 0, reason: 'No-show' });
    expect(none.json().data.refund).toBeNull();
  });

  it('refuses the owner once the trip has started (409); an admin may still cancel', async () => {
    const b = await paidBooking({ startsIn: 60_000 });
    clock.advance(2 * 60_000);
    try {
      const res = await cancel(b.bookingId, b.owner);
      expect(res.statusCode).toBe(409);
      expect(res.json().message).toMatch(/already started/);
      expect((await get(`/booking/${b.bookingId}`, b.owner)).json().data.refundIfCancelledNow).toBeNull();
      const byAdmin = await cancel(b.bookingId, admin, { reason: 'Guest fell ill', refundAmount: 500 });
      expect(byAdmin.statusCode).toBe(200);
      expect(byAdmin.json().data.refund.amount).toBe(500);
    } finally {
      clock.advance(-2 * 60_000);
    }
  });

  it("answers 404 for someone else's booking and 400 for a bad id or body", async () => {
    const b = await paidBooking();
    expect((await cancel(b.bookingId, stranger)).statusCode).toBe(404);
    expect((await get(`/booking/${b.bookingId}/refunds`, stranger)).statusCode).toBe(404);
    const badId = await cancel('nope', b.owner);
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errorSources[0].path).toBe('bookingId');
    const badReason = await cancel(b.bookingId, b.owner, { reason: 'x'.repeat(501) });
    expect(badReason.statusCode).toBe(400);
    expect(badReason.json().errorSources[0].path).toBe('reason');
    expect((await bookingState(t.ctx, b.bookingId)).booking.status).toBe('COMPLETE');
  });

  it('of ten parallel cancels of one paid booking, one cancels and refunds; the others get 409', async () => {
    const b = await paidBooking();
    const answers = await Promise.all(Array.from({ length: 10 }, () => cancel(b.bookingId, b.owner)));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, ...Array(9).fill(409)]);
    const rows = await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId));
    expect(rows).toHaveLength(1);
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
  });
});

describe('cancellations by an admin', () => {
  it('mail the customer about an unpaid booking someone else cancelled, with the reason', async () => {
    const owner = await createUser(t.ctx);
    const tour = await tourStartingIn(30 * 24 * HOUR);
    const booked = await bookThroughApi(t.app, owner, tour.id, 1);
    const res = await cancel(booked.bookingId, admin, { reason: 'Road closed by floods' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ booking: { status: 'CANCEL' }, refund: null });
    const mails = await mailsTo(owner.email);
    expect(mails.map((m) => m.template)).toEqual(['booking-cancelled']);
    expect(mails[0]!.text).toContain('Road closed by floods');
    expect(mails[0]!.html).toContain('Road closed by floods');
  });
});

describe('GET /refunds', () => {
  it('lists refunds newest first, filtered by status, and names a bad filter (400)', async () => {
    const first = await paidBooking();
    const second = await paidBooking();
    await cancel(first.bookingId, first.owner);
    await cancel(second.bookingId, second.owner);
    const res = await get('/refunds?status=REQUESTED&limit=2', admin);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.data.map((r: { booking: string }) => r.booking)).toEqual([
      second.bookingId,
      first.bookingId,
    ]);
    expect(res.json().data.meta).toMatchObject({ page: 1, limit: 2 });
    const bad = await get('/refunds?status=DONE', admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('status');
  });
});

describe('PATCH /booking/:bookingId/status CANCEL on a paid booking', () => {
  it('is the same cancellation: policy refund, seats released', async () => {
    const b = await paidBooking({ startsIn: 100 * HOUR });
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/booking/${b.bookingId}/status`,
      headers: b.owner.auth,
      payload: { status: 'CANCEL' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'CANCEL', payment: { status: 'PAID' } });
    const listed = await get(`/booking/${b.bookingId}/refunds`, b.owner);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data).toMatchObject([
      { amount: 1000, status: 'REQUESTED', requestedBy: b.owner.id },
    ]);
    expect(await seatsBooked(t.ctx, b.tourId)).toBe(0);
  });
});

describe('refunds in the admin views', () => {
  it("the admin booking list shows each booking's refunds; owners see none of that", async () => {
    const b = await paidBooking();
    await cancel(b.bookingId, b.owner);
    const list = await get(`/booking?_id=${b.bookingId}`, admin);
    expect(list.json().data.data[0].refunds).toMatchObject([{ booking: b.bookingId, amount: 2000 }]);
    const projected = await get(`/booking?_id=${b.bookingId}&fields=status`, admin);
    expect(Object.keys(projected.json().data.data[0]).sort()).toEqual(['_id', 'status']);
    const own = await get(`/booking/${b.bookingId}`, b.owner);
    expect(own.json().data.refunds).toBeUndefined();
  });
});
