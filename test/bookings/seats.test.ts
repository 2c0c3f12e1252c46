import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireStaleHolds } from '../../src/modules/bookings/hold-sweeper.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ clock, env: { BOOKING_HOLD_MINUTES: '30' } });
});
afterAll(() => t?.close());

const book = (user: TestUser, tour: string, guestCount = 1) =>
  t.app.inject({ method: 'POST', url: '/api/v1/booking', headers: user.auth, payload: { tour, guestCount } });

describe('seat holds under concurrency', () => {
  it('200 concurrent one-seat bookings on a 20-seat tour: exactly 20 succeed, 180 are SOLD_OUT', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 20 });
    const users: TestUser[] = [];
    for (let i = 0; i < 200; i++) users.push(await createUser(t.ctx));
    const responses = await Promise.all(users.map((u) => book(u, tour.id)));
    const created = responses.filter((r) => r.statusCode === 201);
    const soldOut = responses.filter((r) => r.statusCode === 409 && r.json().code === 'SOLD_OUT');
    expect(created).toHaveLength(20);
    expect(soldOut).toHaveLength(180);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(20);
  }, 60_000);
});

describe('seats come back exactly once', () => {
  it('the sweeper expires stale holds: booking FAILED, payment FAILED, seats released once', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 5 });
    // Users sign in when they act: access tokens are short-lived against the moving clock.
    const first = (await book(await createUser(t.ctx), tour.id, 2)).json().data.booking;
    clock.advance(20 * 60_000);
    const second = (await book(await createUser(t.ctx), tour.id, 3)).json().data.booking;
    expect(await seatsBooked(t.ctx, tour.id)).toBe(5);

    clock.advance(11 * 60_000); // the first hold (30 min) has run out, the second has not
    expect(
      await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now()),
    ).toBeGreaterThanOrEqual(1);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);
    const expired = await bookingState(t.ctx, first._id);
    expect(expired.booking).toMatchObject({ status: 'FAILED', seatsHeld: false });
    expect(expired.payment.status).toBe('FAILED');
    expect((await bookingState(t.ctx, second._id)).booking.status).toBe('PENDING');

    // A second sweep (or a concurrent one) finds nothing more to release.
    await Promise.all([
      expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now()),
      expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now()),
    ]);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);

    // The released seats can be booked again.
    const again = await createUser(t.ctx);
    expect((await book(again, tour.id, 2)).statusCode).toBe(201);
    expect((await book(again, tour.id, 1)).statusCode).toBe(409);
  });

  it('cancelling releases the seats once, even when cancelled twice at the same time', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 4 });
    const user = await createUser(t.ctx);
    const booking = (await book(user, tour.id, 3)).json().data.booking;
    expect(await seatsBooked(t.ctx, tour.id)).toBe(3);
    const cancel = () =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/booking/${booking._id}/status`,
        headers: user.auth,
        payload: { status: 'CANCEL' },
      });
    const results = await Promise.all([cancel(), cancel()]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    // An expired-and-cancelled booking is not released again by the sweeper.
    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
  });
});
