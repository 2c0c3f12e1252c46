import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, movableClock, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

// The default limits: three unpaid bookings and twenty held seats per account.
const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  // Access tokens outlive the clock moves below, so the same users keep acting.
  t = await buildTestApp({ clock, env: { BOOKING_HOLD_MINUTES: '30', JWT_ACCESS_EXPIRES: '2h' } });
});
afterAll(() => t?.close());

const book = (user: TestUser, tour: string, guestCount = 1) =>
  t.app.inject({ method: 'POST', url: '/api/v1/booking', headers: user.auth, payload: { tour, guestCount } });

const pendingBookings = async (user: TestUser) =>
  t.ctx.db
    .select({ id: bookings.id, guestCount: bookings.guestCount })
    .from(bookings)
    .where(and(eq(bookings.userId, user.id), eq(bookings.status, 'PENDING')));

describe('per-account hold limits on POST /booking', () => {
  it('a fourth unpaid booking is a 429 saying why, with Retry-After until the first hold runs out', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 50 });
    for (let i = 0; i < 3; i++) expect((await book(user, tour.id)).statusCode).toBe(201);
    clock.advance(10 * 60_000);

    const fourth = await book(user, tour.id);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(fourth.json().message).toMatch(/already have 3 unpaid bookings/);
    expect(Number(fourth.headers['retry-after'])).toBe(20 * 60);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);

    // Other accounts are not affected.
    expect((await book(await createUser(t.ctx), tour.id)).statusCode).toBe(201);
  });

  it('cancelling a hold, or its expiry (before any sweep), makes room for a new booking', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 50 });
    expect((await book(user, tour.id)).statusCode).toBe(201);
    clock.advance(5 * 60_000);
    const second = (await book(user, tour.id)).json().data.booking;
    expect((await book(user, tour.id)).statusCode).toBe(201);
    expect((await book(user, tour.id)).statusCode).toBe(429);

    const cancel = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/booking/${second._id}/status`,
      headers: user.auth,
      payload: { status: 'CANCEL' },
    });
    expect(cancel.statusCode).toBe(200);
    expect((await book(user, tour.id)).statusCode).toBe(201);
    expect((await book(user, tour.id)).statusCode).toBe(429);

    // The first hold has run out; the sweeper has not run, and the booking is still PENDING.
    clock.advance(26 * 60_000);
    expect(await pendingBookings(user)).toHaveLength(3);
    expect((await book(user, tour.id)).statusCode).toBe(201);
  });

  it('seats held by unpaid bookings are limited to twenty per account', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 100 });
    expect((await book(user, tour.id, 15)).statusCode).toBe(201);
    const over = await book(user, tour.id, 6);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(over.json().message).toMatch(/already hold 15 seats, and 6 more would pass the 20/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await book(user, tour.id, 5)).statusCode).toBe(201);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(20);

    const alone = await book(await createUser(t.ctx), tour.id, 21);
    expect(alone.statusCode).toBe(429);
    expect(alone.json().message).toMatch(/at most 20 seats/);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(20);
  });

  it('20 parallel bookings by one account: exactly 3 are made, the rest are 429, seats held only for those', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 100 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => book(user, tour.id, 2)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(17);
    for (const r of responses.filter((r) => r.statusCode === 429)) expect(r.json().code).toBe('RATE_LIMITED');
    expect(await pendingBookings(user)).toHaveLength(3);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(6);
  }, 60_000);

  it('parallel bookings by one account never hold more than twenty seats together', async () => {
    const user = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { maxGuest: 100 });
    const responses = await Promise.all(Array.from({ length: 12 }, () => book(user, tour.id, 7)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(2);
    expect(codes.filter((c) => c === 429)).toHaveLength(10);
    const pending = await pendingBookings(user);
    expect(pending.reduce((sum, b) => sum + b.guestCount, 0)).toBe(14);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(14);
  }, 60_000);
});

describe('per-account hold limits are configurable', () => {
  let custom: TestApp;
  beforeAll(async () => {
    custom = await buildTestApp({ env: { MAX_ACTIVE_HOLDS_PER_USER: '1', MAX_HELD_SEATS_PER_USER: '50' } });
  });
  afterAll(() => custom?.close());

  it('MAX_ACTIVE_HOLDS_PER_USER and MAX_HELD_SEATS_PER_USER replace the defaults', async () => {
    const user = await createUser(custom.ctx);
    const tour = await createTour(custom.ctx, { maxGuest: 100 });
    const send = (guestCount: number) =>
      custom.app.inject({
        method: 'POST',
        url: '/api/v1/booking',
        headers: user.auth,
        payload: { tour: tour.id, guestCount },
      });
    expect((await send(40)).statusCode).toBe(201);
    expect((await send(1)).statusCode).toBe(429);
  });
});
