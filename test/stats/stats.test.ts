import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { startSession } from '../../src/modules/auth/sessions.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { type Callers, createCallers, insertKnownDataset, type KnownDataset, NOW } from './known-dataset.js';

const ENDPOINTS = ['user', 'tour', 'booking', 'payment'] as const;
const DAY = 24 * 60 * 60 * 1000;

/** The 30 UTC days ending with NOW's day, with the given counts (0 elsewhere). */
function series<T>(days: number, valueOn: (date: string) => T): { date: string; value: T }[] {
  const today = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate());
  return Array.from({ length: days }, (_, k) => {
    const date = new Date(today - (days - 1 - k) * DAY).toISOString().slice(0, 10);
    return { date, value: valueOn(date) };
  });
}

let current = NOW;
const clock: Clock = { now: () => current };
let t: TestApp;
let callers: Callers;
let data: KnownDataset;

beforeAll(async () => {
  t = await buildTestApp({ clock });
  callers = await createCallers(t.ctx);
  data = await insertKnownDataset(t.ctx, callers);
});
afterAll(() => t.close());

async function get(path: string, auth = callers.admin.auth) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/stats/${path}`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

describe('GET /api/v1/stats/user', () => {
  it('counts live users by state, role and sign-up window, leaving deleted users out', async () => {
    expect(await get('user')).toEqual({
      totalUsers: 9,
      totalActiveUsers: 7,
      totalActiveUser: 7,
      totalInActiveUsers: 1,
      totalBlockedUsers: 1,
      totalDeletedUsers: 1,
      newUsersInLast7Days: 2,
      newUsersInLast30Days: 4,
      usersByRole: [
        { _id: 'SUPER_ADMIN', count: 1 },
        { _id: 'ADMIN', count: 1 },
        { _id: 'USER', count: 5 },
        { _id: 'GUIDE', count: 2 },
      ],
    });
  });

  it('answers in the legacy envelope for SUPER_ADMIN too', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/stats/user',
      headers: callers.superAdmin.auth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ statusCode: 200, success: true, message: expect.any(String) });
  });
});

describe('GET /api/v1/stats/tour', () => {
  it('reports tours per type and division, the average price and the most booked tours', async () => {
    const stats = await get('tour');
    expect(stats.totalTour).toBe(4);
    const perType = [
      { _id: 'Beach', count: 2 },
      { _id: 'Hiking', count: 2 },
      { _id: 'Cultural', count: 0 },
    ];
    expect(stats.totalTourByTourType).toEqual(perType);
    expect(stats.totalTourByTourTypes).toEqual(perType);
    expect(stats.totalTourByDivision).toEqual([
      { _id: 'Dhaka', count: 3 },
      { _id: 'Sylhet', count: 1 },
      { _id: 'Khulna', count: 0 },
    ]);
    // (1500.50 + 2000.00 + 999.99) / 3, rounded to the poisha; the unpriced tour is left out.
    expect(stats.avgTourCost).toEqual([{ _id: null, avgCostFrom: 1500.16 }]);
    // Only PENDING and COMPLETE bookings count: Cox Beach has 4 bookings but 2 that count.
    expect(stats.totalHighestBookedTour).toEqual([
      { _id: data.tours.sylhetHike, bookingCount: 3, tour: { title: 'Sylhet Hike', slug: 'sylhet-hike' } },
      { _id: data.tours.coxBeach, bookingCount: 2, tour: { title: 'Cox Beach', slug: 'cox-beach' } },
    ]);
  });

  it('reports occupancy of upcoming tours, soonest first, sold seats over capacity', async () => {
    const stats = await get('tour');
    expect(stats.upcomingTourOccupancy).toEqual([
      {
        _id: data.tours.sylhetHike,
        title: 'Sylhet Hike',
        slug: 'sylhet-hike',
        startDate: new Date(NOW.getTime() + 5 * DAY).toISOString(),
        capacity: 20,
        seatsSold: 2,
        seatsHeld: 2,
        occupancy: 0.1,
      },
      {
        _id: data.tours.coxBeach,
        title: 'Cox Beach',
        slug: 'cox-beach',
        startDate: new Date(NOW.getTime() + 10 * DAY).toISOString(),
        capacity: 10,
        seatsSold: 5,
        seatsHeld: 0,
        occupancy: 0.5,
      },
      {
        _id: data.tours.sajek,
        title: 'Sajek',
        slug: 'sajek',
        startDate: new Date(NOW.getTime() + 30 * DAY).toISOString(),
        capacity: null,
        seatsSold: 0,
        seatsHeld: 0,
        occupancy: null,
      },
    ]);
    const limited = await get('tour?upcomingLimit=1');
    expect(limited.upcomingTourOccupancy.map((o: { _id: string }) => o._id)).toEqual([data.tours.sylhetHike]);
  });

  it('refuses an out-of-range upcomingLimit with a 400 naming the field', async () => {
    for (const value of ['0', '51', 'many']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/tour?upcomingLimit=${value}`,
        headers: callers.admin.auth,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources[0].path).toBe('upcomingLimit');
    }
  });
});

describe('GET /api/v1/stats/booking', () => {
  it('counts bookings by status, window, guest average and distinct users', async () => {
    const stats = await get('booking');
    expect(stats.totalBooking).toBe(9);
    expect(stats.totalBookingByStatus).toEqual([
      { _id: 'PENDING', count: 1 },
      { _id: 'COMPLETE', count: 4 },
      { _id: 'CANCEL', count: 2 },
      { _id: 'FAILED', count: 2 },
    ]);
    // 17 guests over 9 bookings.
    expect(stats.avgGuestCountPerBooking).toBe(1.89);
    expect(stats.avgGuestPerBooking).toBe(1.89);
    expect(stats.bookingsLast7Days).toBe(4);
    expect(stats.bookingsLast30Days).toBe(6);
    expect(stats.bookingLastThirty).toBe(6);
    // The deleted user's bookings happened, so that user counts.
    expect(stats.totalBookingByUniqueUsers).toBe(5);
    expect(stats.bookingsPerTour).toEqual([
      { _id: data.tours.sylhetHike, bookingCount: 3, tour: { title: 'Sylhet Hike', slug: 'sylhet-hike' } },
      { _id: data.tours.coxBeach, bookingCount: 2, tour: { title: 'Cox Beach', slug: 'cox-beach' } },
    ]);
  });

  it('reports conversion from created to paid bookings, overall and over 30 days', async () => {
    const stats = await get('booking');
    expect(stats.conversion).toEqual({ createdBookings: 9, paidBookings: 4, rate: 0.4444 });
    expect(stats.conversionLast30Days).toEqual({ createdBookings: 6, paidBookings: 3, rate: 0.5 });
  });

  it('lists bookings for every UTC day of the last 30 days, zeros included', async () => {
    const counts: Record<string, number> = {
      '2026-03-15': 1,
      '2026-03-14': 1,
      '2026-03-13': 1,
      '2026-03-12': 1,
      '2026-02-14': 1,
    };
    const expected = series(30, (date) => counts[date] ?? 0).map(({ date, value }) => ({
      date,
      count: value,
    }));
    expect((await get('booking')).bookingsPerDay).toEqual(expected);
    const week = (await get('booking?days=7')).bookingsPerDay;
    expect(week).toEqual(expected.slice(-7));
  });

  it('computes the time windows from the clock at each request', async () => {
    current = new Date(NOW.getTime() + 6.25 * DAY);
    try {
      const tokens = await startSession(t.ctx.db, t.ctx, callers.admin, {}, current);
      const stats = await get('booking', { authorization: `Bearer ${tokens.accessToken}` });
      // Only the booking made 10 minutes before NOW is now within 7 days.
      expect(stats.bookingsLast7Days).toBe(1);
      expect(stats.bookingsPerDay.at(-1)).toEqual({ date: '2026-03-21', count: 0 });
    } finally {
      current = NOW;
    }
  });

  it('refuses a bad days value with a 400 naming the field', async () => {
    for (const value of ['0', '91', 'x', '1.5']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/booking?days=${value}`,
        headers: callers.admin.auth,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources[0].path).toBe('days');
    }
  });
});

describe('GET /api/v1/stats/payment', () => {
  it('reports payments by status and gateway status, revenue and average from PAID payments only', async () => {
    const stats = await get('payment');
    expect(stats.totalPayment).toBe(9);
    expect(stats.totalPaymentByStatus).toEqual([
      { _id: 'UNPAID', count: 1 },
      { _id: 'PAID', count: 4 },
      { _id: 'FAILED', count: 2 },
      { _id: 'CANCELLED', count: 1 },
      { _id: 'REFUNDED', count: 1 },
    ]);
    // 3001.00 + 4501.50 + 2000.00 + 2000.00; the refunded, failed and unpaid amounts are not revenue.
    expect(stats.totalRevenue).toEqual([{ _id: null, totalRevenue: 11502.5 }]);
    // 11502.50 / 4 = 2875.625, rounded to the poisha.
    expect(stats.avgPaymentAmount).toEqual([
      { _id: null, avgPaymentAMount: 2875.63, avgPaymentAmount: 2875.63 },
    ]);
    expect(stats.paymentGatewayData).toEqual([
      { _id: 'VALID', count: 4 },
      { _id: 'UNKNOWN', count: 3 },
      { _id: 'FAILED', count: 1 },
      { _id: 'VALIDATED', count: 1 },
    ]);
    expect(stats.currency).toBe('BDT');
  });

  it('lists revenue for every UTC day of the last 30 days by payment date', async () => {
    const revenue: Record<string, number> = { '2026-03-14': 3001, '2026-03-12': 4501.5, '2026-02-14': 2000 };
    const expected = series(30, (date) => revenue[date] ?? 0).map(({ date, value }) => ({
      date,
      revenue: value,
      payments: value > 0 ? 1 : 0,
    }));
    expect((await get('payment')).revenuePerDay).toEqual(expected);
  });

  it('refuses a bad days value with a 400 naming the field', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/stats/payment?days=-3',
      headers: callers.admin.auth,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('days');
  });
});

describe('stats access', () => {
  it.each(ENDPOINTS)('/stats/%s answers 401 without a token', async (endpoint) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/stats/${endpoint}` });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
  });

  it.each(ENDPOINTS)('/stats/%s answers 403 to USER and GUIDE', async (endpoint) => {
    for (const caller of [callers.user, callers.guide]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/${endpoint}`,
        headers: caller.auth,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ success: false, code: 'FORBIDDEN' });
    }
  });

  it.each(ENDPOINTS)('/stats/%s answers 200 to ADMIN and SUPER_ADMIN', async (endpoint) => {
    for (const caller of [callers.admin, callers.superAdmin]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/${endpoint}`,
        headers: caller.auth,
      });
      expect(res.statusCode).toBe(200);
    }
  });
});
