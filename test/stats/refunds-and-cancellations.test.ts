import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { jobWorker } from '../helpers/refund-worker.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ env: { MAX_ACTIVE_HOLDS_PER_USER: '100' } });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  const owner = await createUser(t.ctx);
  const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 50 });
  const paid = async (guests: number) => {
    const b = await bookThroughApi(t.app, owner, tour.id, guests);
    expect(await payOnLocalGateway(t.app, b.paymentUrl)).toBe(302);
    return b.bookingId;
  };
  const cancel = async (bookingId: string, user: TestUser, body?: object) => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${bookingId}/cancel`,
      headers: user.auth,
      ...(body ? { payload: body } : {}),
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  const runJobs = jobWorker(t.app);

  // Cancelled by its owner a month ahead: 2000.00 back, the payment REFUNDED.
  await cancel(await paid(2), owner);
  // Cancelled by an admin with 250.00 back: the payment stays PAID with 250.00 refunded.
  await cancel(await paid(1), admin, { refundAmount: 250, reason: 'Partial goodwill' });
  // Cancelled before payment.
  await cancel((await bookThroughApi(t.app, owner, tour.id, 1)).bookingId, owner);
  await runJobs(t.ctx.clock.now());
  // Cancelled with 100.00 back that the worker has not carried out yet.
  await cancel(await paid(1), admin, { refundAmount: 100, reason: 'Late goodwill' });
  // Paid and kept.
  await paid(3);
});
afterAll(() => t?.close());

async function get(path: string) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/stats/${path}`, headers: admin.auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

const REFUNDS = {
  count: 2,
  amount: 2250,
  byStatus: [
    { _id: 'REQUESTED', count: 1, amount: 100 },
    { _id: 'PROCESSING', count: 0, amount: 0 },
    { _id: 'REFUNDED', count: 2, amount: 2250 },
    { _id: 'FAILED', count: 0, amount: 0 },
  ],
};

describe('statistics with refunds and cancellations', () => {
  it('booking stats count cancellations, those after payment, and refunds', async () => {
    const stats = await get('booking');
    expect(stats.cancellations).toEqual({ total: 4, afterPayment: 3 });
    expect(stats.refunds).toEqual(REFUNDS);
    expect(stats.totalBookingByStatus).toContainEqual({ _id: 'CANCEL', count: 4 });
  });

  it('payment stats count revenue as what was paid less what was refunded', async () => {
    const stats = await get('payment');
    // Paid and not refunded in full: 1000.00 - 250.00, 1000.00 (its refund still on the way) and 3000.00.
    expect(stats.totalRevenue).toEqual([{ _id: null, totalRevenue: 4750 }]);
    expect(stats.revenuePerDay.at(-1)).toMatchObject({ revenue: 4750, payments: 3 });
    expect(stats.totalPaymentByStatus).toContainEqual({ _id: 'REFUNDED', count: 1 });
    expect(stats.refunds).toEqual(REFUNDS);
    expect(stats.cancellations).toEqual({ total: 4, afterPayment: 3 });
  });
});
