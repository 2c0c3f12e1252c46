import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYMENT_STATUSES } from '../../src/db/schema/index.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { movePaymentsOfBookings } from '../../src/modules/payments/repo.js';
import { canMovePayment, paymentStatusesBefore } from '../../src/modules/payments/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';

describe('the payment state machine', () => {
  it('only moves forward: money received is never undone except by a refund', () => {
    for (const to of ['UNPAID', 'FAILED', 'CANCELLED'] as const)
      expect(canMovePayment('PAID', to)).toBe(false);
    expect(canMovePayment('PAID', 'REFUNDED')).toBe(true);
    for (const to of PAYMENT_STATUSES) expect(canMovePayment('REFUNDED', to)).toBe(false);
    expect(paymentStatusesBefore('UNPAID')).toEqual([]);
  });

  it('records validated money even on a payment that ended unpaid, and ends only unpaid ones', () => {
    expect(paymentStatusesBefore('PAID')).toEqual(['UNPAID', 'FAILED', 'CANCELLED']);
    expect(paymentStatusesBefore('FAILED')).toEqual(['UNPAID']);
    expect(paymentStatusesBefore('CANCELLED')).toEqual(['UNPAID']);
  });
});

describe('payment status moves', () => {
  let t: TestApp;
  let owner: TestUser;

  beforeAll(async () => {
    t = await buildTestApp();
    owner = await createUser(t.ctx);
  });
  afterAll(() => t?.close());

  it('the repository never moves a PAID payment to FAILED, CANCELLED or UNPAID', async () => {
    const tour = await createTour(t.ctx);
    const booked = await bookThroughApi(t.app, owner, tour.id);
    expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    for (const to of ['FAILED', 'CANCELLED', 'UNPAID'] as const) {
      await t.ctx.db.transaction((tx) => movePaymentsOfBookings(tx, [booked.bookingId], to));
    }
    await t.ctx.db.transaction((tx) => closeUnpaidPayments(tx, [booked.bookingId], 'CANCEL'));
    expect((await bookingState(t.ctx, booked.bookingId)).payment.status).toBe('PAID');
  });

  it('a booking that ends unpaid ends its unpaid payment the matching way', async () => {
    const tour = await createTour(t.ctx);
    const cancelled = await bookThroughApi(t.app, owner, tour.id);
    const failed = await bookThroughApi(t.app, owner, tour.id);
    await t.ctx.db.transaction(async (tx) => {
      await closeUnpaidPayments(tx, [cancelled.bookingId], 'CANCEL');
      await closeUnpaidPayments(tx, [failed.bookingId], 'FAILED');
    });
    expect((await bookingState(t.ctx, cancelled.bookingId)).payment.status).toBe('CANCELLED');
    expect((await bookingState(t.ctx, failed.bookingId)).payment.status).toBe('FAILED');
  });
});
