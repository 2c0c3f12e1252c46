import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKING_STATUSES } from '../../src/db/schema/index.js';
import { moveBooking } from '../../src/modules/bookings/lifecycle.js';
import { moveBookings } from '../../src/modules/bookings/repo.js';
import {
  bookingStatusesBefore,
  canMoveBooking,
  REQUESTABLE_MOVES,
} from '../../src/modules/bookings/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';

describe('the booking state machine', () => {
  it('never takes a paid booking back to waiting or to failed', () => {
    expect(canMoveBooking('COMPLETE', 'PENDING')).toBe(false);
    expect(canMoveBooking('COMPLETE', 'FAILED')).toBe(false);
    expect(canMoveBooking('COMPLETE', 'CANCEL')).toBe(true);
  });

  it('brings an ended booking back only for a late payment, and never ends one twice', () => {
    expect(bookingStatusesBefore('PENDING')).toEqual(['CANCEL', 'FAILED']);
    expect(bookingStatusesBefore('COMPLETE')).toEqual(['PENDING', 'CANCEL', 'FAILED']);
    expect(bookingStatusesBefore('FAILED')).toEqual(['PENDING']);
    for (const status of BOOKING_STATUSES) expect(canMoveBooking(status, status)).toBe(false);
  });

  it('lets owners and admins ask only for moves the machine allows', () => {
    for (const moves of Object.values(REQUESTABLE_MOVES)) {
      for (const [from, targets] of Object.entries(moves)) {
        for (const to of targets ?? []) {
          expect(canMoveBooking(from as never, to), `${from} → ${to}`).toBe(true);
        }
      }
    }
  });
});

describe('booking status moves', () => {
  let t: TestApp;
  let owner: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await buildTestApp();
    owner = await createUser(t.ctx);
    admin = await createUser(t.ctx, { role: 'ADMIN' });
  });
  afterAll(() => t?.close());

  const setStatus = (id: string, status: string, user: TestUser) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/v1/booking/${id}/status`,
      headers: user.auth,
      payload: { status },
    });

  async function paidBooking() {
    const tour = await createTour(t.ctx, { maxGuest: 5 });
    const booked = await bookThroughApi(t.app, owner, tour.id, 2);
    expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    expect((await bookingState(t.ctx, booked.bookingId)).booking.status).toBe('COMPLETE');
    return { ...booked, tourId: tour.id };
  }

  it('a paid booking cannot go back to PENDING or to FAILED through the API (409), and keeps its seats', async () => {
    const paid = await paidBooking();
    for (const status of ['PENDING', 'FAILED', 'COMPLETE']) {
      const res = await setStatus(paid.bookingId, status, admin);
      expect(res.statusCode, status).toBe(409);
      expect(res.json().message).toBe(`A COMPLETE booking cannot be changed to ${status}`);
    }
    expect((await setStatus(paid.bookingId, 'PENDING', owner)).statusCode).toBe(403);
    const state = await bookingState(t.ctx, paid.bookingId);
    expect(state.booking).toMatchObject({ status: 'COMPLETE', seatsHeld: true });
    expect(state.payment.status).toBe('PAID');
    expect(await seatsBooked(t.ctx, paid.tourId)).toBe(2);
  });

  it('the repository moves a booking only from a status the machine allows before the new one', async () => {
    const paid = await paidBooking();
    const moved = await t.ctx.db.transaction((tx) => moveBookings(tx, [paid.bookingId], 'PENDING'));
    expect(moved).toEqual([]);
    const cancelled = await t.ctx.db.transaction((tx) => moveBookings(tx, [paid.bookingId], 'CANCEL'));
    expect(cancelled).toEqual([paid.bookingId]);
    expect((await bookingState(t.ctx, paid.bookingId)).booking.status).toBe('CANCEL');
  });

  it('a lifecycle move the machine refuses is a 409 and changes nothing', async () => {
    const paid = await paidBooking();
    const state = await bookingState(t.ctx, paid.bookingId);
    await expect(
      t.ctx.db.transaction((tx) => moveBooking(tx, state.booking, 'FAILED')),
    ).rejects.toMatchObject({ statusCode: 409 });
    // A caller holding a stale status cannot move the row either.
    await expect(
      t.ctx.db.transaction((tx) => moveBooking(tx, { ...state.booking, status: 'PENDING' }, 'FAILED')),
    ).rejects.toMatchObject({ statusCode: 409 });
    expect((await bookingState(t.ctx, paid.bookingId)).booking.status).toBe('COMPLETE');
  });
});
