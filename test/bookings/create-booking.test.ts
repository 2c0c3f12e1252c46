import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser } from '../helpers/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t?.close());

const book = (headers: Record<string, string>, payload: unknown) =>
  t.app.inject({ method: 'POST', url: '/api/v1/booking', headers, payload: payload as object });

describe('POST /booking', () => {
  it('holds the seats and answers 201 with the payment URL and the populated booking', async () => {
    const user = await createUser(t.ctx, { name: 'Rahim' });
    const tour = await createTour(t.ctx, { costFrom: 1500.5, maxGuest: 10, title: 'Sundarbans' });
    const res = await book(user.auth, { tour: tour.id, guestCount: 2 });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 201, success: true, message: 'Booking created successfully' });
    const { paymentUrl, booking } = body.data;
    expect(paymentUrl).toMatch(
      /^http:\/\/api\.test\.local\/api\/v1\/payment\/local-gateway\/tran_[0-9a-f]{32}\?signature=[\w-]+$/,
    );
    expect(booking).toMatchObject({
      status: 'PENDING',
      guestCount: 2,
      unitPrice: 1500.5,
      amount: 3001,
      currency: 'BDT',
      tour: { _id: tour.id, title: 'Sundarbans', costFrom: 1500.5 },
      user: { _id: user.id, name: 'Rahim', email: user.email, phone: '01712345678' },
      payment: { amount: 3001, status: 'UNPAID' },
    });
    expect(booking.user.address).toBeTruthy();
    expect(booking.payment.transactionId).toMatch(/^tran_[0-9a-f]{32}$/);
    expect(Date.parse(booking.createdAt)).not.toBeNaN();
    expect(Date.parse(booking.holdExpiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(2);
    const state = await bookingState(t.ctx, booking._id);
    expect(state.booking).toMatchObject({ unitPriceMinor: 150050, amountMinor: 300100, seatsHeld: true });
  });

  it('gives every booking a different unguessable transaction id', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    const a = await book(user.auth, { tour: tour.id, guestCount: 1 });
    const b = await book(user.auth, { tour: tour.id, guestCount: 1 });
    expect(a.json().data.booking.payment.transactionId).not.toBe(b.json().data.booking.payment.transactionId);
  });

  it('refuses without a token (401)', async () => {
    const tour = await createTour(t.ctx);
    const res = await book({}, { tour: tour.id, guestCount: 1 });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
  });

  it('answers 401 before looking at the body when there is no token', async () => {
    const res = await book({}, { guestCount: 'many' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
  });

  it('names the missing phone and address (400) and holds nothing', async () => {
    const user = await createUser(t.ctx, { phone: null, address: '  ' });
    const tour = await createTour(t.ctx);
    const res = await book(user.auth, { tour: tour.id, guestCount: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('Please Add Phone Number and Address In Your Profile For Booking!');
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toEqual(['phone', 'address']);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
  });

  it.each([
    [{ guestCount: 1 }, 'tour'],
    [{ tour: 'not-an-id', guestCount: 1 }, 'tour'],
    [{ tour: '01a21902-3a43-70fa-9b6d-4aa9740e4795' }, 'guestCount'],
    [{ tour: '01a21902-3a43-70fa-9b6d-4aa9740e4795', guestCount: 0 }, 'guestCount'],
    [{ tour: '01a21902-3a43-70fa-9b6d-4aa9740e4795', guestCount: 1.5 }, 'guestCount'],
    [{ tour: '01a21902-3a43-70fa-9b6d-4aa9740e4795', guestCount: '2' }, 'guestCount'],
  ])('rejects bad input %j naming %s (400)', async (payload, field) => {
    const user = await createUser(t.ctx);
    const res = await book(user.auth, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_ERROR');
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('answers 404 for a tour that does not exist', async () => {
    const user = await createUser(t.ctx);
    const res = await book(user.auth, { tour: '01a21902-3a43-70fa-9b6d-4aa9740e4795', guestCount: 1 });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('refuses a tour that has already started (400 naming tour)', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { startDate: new Date(Date.now() - 3600_000) });
    const res = await book(user.auth, { tour: tour.id, guestCount: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('tour');
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
  });

  it('refuses a tour without a price (400 naming tour) but books a free one', async () => {
    const user = await createUser(t.ctx);
    const unpriced = await createTour(t.ctx, { costFrom: null });
    const res = await book(user.auth, { tour: unpriced.id, guestCount: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('tour');
    const free = await createTour(t.ctx, { costFrom: 0 });
    const ok = await book(user.auth, { tour: free.id, guestCount: 3 });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().data.booking.amount).toBe(0);
  });

  it('answers 409 SOLD_OUT when the seats left are fewer than the guests', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 3 });
    expect((await book(user.auth, { tour: tour.id, guestCount: 2 })).statusCode).toBe(201);
    const res = await book(user.auth, { tour: tour.id, guestCount: 2 });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, code: 'SOLD_OUT' });
    expect(await seatsBooked(t.ctx, tour.id)).toBe(2);
    expect((await book(user.auth, { tour: tour.id, guestCount: 1 })).statusCode).toBe(201);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);
  });

  it('books a tour without a capacity limit', async () => {
    const tour = await createTour(t.ctx, { maxGuest: null });
    for (let i = 0; i < 3; i++) {
      const res = await book((await createUser(t.ctx)).auth, { tour: tour.id, guestCount: 20 });
      expect(res.statusCode).toBe(201);
    }
    expect(await seatsBooked(t.ctx, tour.id)).toBe(60);
  });
});

describe('POST /booking with an Idempotency-Key', () => {
  it('replays the first response for the same key and body, creating one booking', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    const headers = { ...user.auth, 'idempotency-key': 'order-123' };
    const first = await book(headers, { tour: tour.id, guestCount: 2 });
    const second = await book(headers, { tour: tour.id, guestCount: 2 });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(await seatsBooked(t.ctx, tour.id)).toBe(2);
  });

  it('answers 422 when the key is reused with another body', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    const headers = { ...user.auth, 'idempotency-key': 'order-456' };
    expect((await book(headers, { tour: tour.id, guestCount: 1 })).statusCode).toBe(201);
    const res = await book(headers, { tour: tour.id, guestCount: 3 });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDEMPOTENCY_MISMATCH');
    expect(await seatsBooked(t.ctx, tour.id)).toBe(1);
  });

  it('keys are per user: another user with the same key books independently', async () => {
    const [a, b] = [await createUser(t.ctx), await createUser(t.ctx)];
    const tour = await createTour(t.ctx);
    const ra = await book({ ...a.auth, 'idempotency-key': 'same' }, { tour: tour.id, guestCount: 1 });
    const rb = await book({ ...b.auth, 'idempotency-key': 'same' }, { tour: tour.id, guestCount: 1 });
    expect(rb.json().data.booking._id).not.toBe(ra.json().data.booking._id);
  });

  it('does not remember a failed attempt, so the same key can be retried', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 1 });
    const other = await createUser(t.ctx);
    expect((await book(other.auth, { tour: tour.id, guestCount: 1 })).statusCode).toBe(201);
    const headers = { ...user.auth, 'idempotency-key': 'retry-me' };
    expect((await book(headers, { tour: tour.id, guestCount: 1 })).statusCode).toBe(409);
    const rows = await t.ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id));
    expect(rows).toHaveLength(0);
  });

  it('rejects a malformed key (400)', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx);
    const res = await book(
      { ...user.auth, 'idempotency-key': 'has spaces in it' },
      { tour: tour.id, guestCount: 1 },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_ERROR');
  });
});
