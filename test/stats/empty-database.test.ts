import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t.close());

async function get(path: string) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/stats/${path}`, headers: admin.auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

const NO_REFUNDS = {
  count: 0,
  amount: 0,
  byStatus: ['REQUESTED', 'PROCESSING', 'REFUNDED', 'FAILED'].map((_id) => ({ _id, count: 0, amount: 0 })),
};

const zeroDays = (days: number) => Array.from({ length: days }, () => expect.objectContaining({ count: 0 }));

describe('stats on an empty database', () => {
  it('user stats count only the admin asking', async () => {
    expect(await get('user')).toEqual({
      totalUsers: 1,
      totalActiveUsers: 1,
      totalActiveUser: 1,
      totalInActiveUsers: 0,
      totalBlockedUsers: 0,
      totalDeletedUsers: 0,
      newUsersInLast7Days: 1,
      newUsersInLast30Days: 1,
      usersByRole: [
        { _id: 'SUPER_ADMIN', count: 0 },
        { _id: 'ADMIN', count: 1 },
        { _id: 'USER', count: 0 },
        { _id: 'GUIDE', count: 0 },
      ],
    });
  });

  it('tour stats are zeros, with the average as a one-element array', async () => {
    expect(await get('tour')).toEqual({
      totalTour: 0,
      totalTourByTourType: [],
      totalTourByTourTypes: [],
      avgTourCost: [{ _id: null, avgCostFrom: 0 }],
      totalTourByDivision: [],
      totalHighestBookedTour: [],
      upcomingTourOccupancy: [],
    });
  });

  it('booking stats are zeros (no 500 for the average guest count)', async () => {
    const stats = await get('booking');
    expect(stats).toMatchObject({
      totalBooking: 0,
      totalBookingByStatus: [
        { _id: 'PENDING', count: 0 },
        { _id: 'COMPLETE', count: 0 },
        { _id: 'CANCEL', count: 0 },
        { _id: 'FAILED', count: 0 },
      ],
      bookingsPerTour: [],
      avgGuestCountPerBooking: 0,
      avgGuestPerBooking: 0,
      bookingsLast7Days: 0,
      bookingsLast30Days: 0,
      bookingLastThirty: 0,
      totalBookingByUniqueUsers: 0,
      conversion: { createdBookings: 0, paidBookings: 0, rate: 0 },
      conversionLast30Days: { createdBookings: 0, paidBookings: 0, rate: 0 },
      cancellations: { total: 0, afterPayment: 0 },
      refunds: NO_REFUNDS,
    });
    expect(stats.bookingsPerDay).toEqual(zeroDays(30));
  });

  it('payment stats are zeros, with revenue and average as one-element arrays', async () => {
    const stats = await get('payment');
    expect(stats).toMatchObject({
      totalPayment: 0,
      totalPaymentByStatus: [
        { _id: 'UNPAID', count: 0 },
        { _id: 'PAID', count: 0 },
        { _id: 'FAILED', count: 0 },
        { _id: 'CANCELLED', count: 0 },
        { _id: 'REFUNDED', count: 0 },
      ],
      totalRevenue: [{ _id: null, totalRevenue: 0 }],
      avgPaymentAmount: [{ _id: null, avgPaymentAMount: 0, avgPaymentAmount: 0 }],
      paymentGatewayData: [],
      cancellations: { total: 0, afterPayment: 0 },
      refunds: NO_REFUNDS,
    });
    expect(stats.revenuePerDay).toEqual(
      Array.from({ length: 30 }, () => expect.objectContaining({ revenue: 0, payments: 0 })),
    );
  });
});
