import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, emailOutbox, jobs, refunds } from '../../src/db/schema/index.js';
import type { PaymentGateway } from '../../src/modules/payments/gateway.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { jobWorker } from '../helpers/refund-worker.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t?.close());

const MISSING_ID = '01a21902-3a43-70fa-9b6d-4aa9740e4795';

const cancelDeparture = (id: string, payload: object, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'POST', url: `/api/v1/departures/${id}/cancel`, headers, payload });

/** The app's gateway, counting the refunds it is asked for. */
function countingGateway(gateway: PaymentGateway) {
  const refundRefs: string[] = [];
  const counted: PaymentGateway = {
    ...gateway,
    refund: (request) => {
      refundRefs.push(request.refundRef);
      return gateway.refund(request);
    },
  };
  return { gateway: counted, refundRefs };
}

describe('POST /departures/:id/cancel', () => {
  it('cancels a departure with 20 paid bookings: 20 full refunds through the gateway, every customer mailed, seats freed; a second call changes nothing', async () => {
    const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 60 });
    const paid: { bookingId: string; owner: TestUser }[] = [];
    for (let k = 0; k < 20; k++) {
      const owner = await createUser(t.ctx);
      const booked = await bookThroughApi(t.app, owner, tour.id, 2);
      expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
      paid.push({ bookingId: booked.bookingId, owner });
    }
    const pendingOwner = await createUser(t.ctx);
    const pending = await bookThroughApi(t.app, pendingOwner, tour.id, 3);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(43);

    const res = await cancelDeparture(tour.departureId, { reason: 'Flooded roads' });
    expect(res.statusCode).toBe(200);
    const departure = res.json().data;
    expect(departure).toMatchObject({
      _id: tour.departureId,
      status: 'CANCELLED',
      bookedSeats: 0,
      availableSeats: 60,
    });

    const all = await t.ctx.db.select().from(bookings).where(eq(bookings.departureId, tour.departureId));
    expect(all.map((b) => b.status)).toEqual(Array(21).fill('CANCEL'));
    const issued = await t.ctx.db
      .select()
      .from(refunds)
      .where(
        inArray(
          refunds.bookingId,
          paid.map((p) => p.bookingId),
        ),
      );
    expect(issued).toHaveLength(20);
    for (const refund of issued) {
      expect(refund).toMatchObject({ amountMinor: 200_000, status: 'REQUESTED', requestedBy: admin.id });
      expect(refund.reason).toContain('Flooded roads');
    }
    const pendingView = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking/${pending.bookingId}`,
      headers: pendingOwner.auth,
    });
    expect(pendingView.json().data).toMatchObject({ status: 'CANCEL', payment: { status: 'CANCELLED' } });

    // One mail per customer, saying why.
    const mails = await t.ctx.db.select().from(emailOutbox);
    for (const { owner } of paid) {
      const theirs = mails.filter((m) => m.to === owner.email && m.template === 'refund-issued');
      expect(theirs).toHaveLength(1);
      expect(theirs[0]!.text).toContain('Flooded roads');
    }
    const pendingMails = mails.filter(
      (m) => m.to === pendingOwner.email && m.template === 'booking-cancelled',
    );
    expect(pendingMails).toHaveLength(1);
    expect(pendingMails[0]!.text).toContain('Flooded roads');

    // The worker carries the refunds out: the gateway is asked for 20, each once.
    const counting = countingGateway(t.ctx.gateway);
    const runJobs = jobWorker(t.app, { gateway: counting.gateway });
    for (let round = 0; round < 5; round++) await runJobs(new Date(Date.now() + round * 60_000));
    expect(counting.refundRefs.sort()).toEqual(issued.map((r) => r.id).sort());
    const done = await t.ctx.db
      .select()
      .from(refunds)
      .where(
        inArray(
          refunds.bookingId,
          paid.map((p) => p.bookingId),
        ),
      );
    expect(done.map((r) => r.status)).toEqual(Array(20).fill('REFUNDED'));
    await expectConsistentBookings(t.ctx.db);

    // Again: the same departure, nothing new.
    const countsBefore = {
      mails: (await t.ctx.db.select().from(emailOutbox)).length,
      refunds: (await t.ctx.db.select().from(refunds)).length,
      jobs: (await t.ctx.db.select().from(jobs)).length,
    };
    const again = await cancelDeparture(tour.departureId, { reason: 'Once more' });
    expect(again.statusCode).toBe(200);
    expect(again.json().data).toEqual(departure);
    expect({
      mails: (await t.ctx.db.select().from(emailOutbox)).length,
      refunds: (await t.ctx.db.select().from(refunds)).length,
      jobs: (await t.ctx.db.select().from(jobs)).length,
    }).toEqual(countsBefore);

    // No one books a cancelled departure.
    const late = await t.app.inject({
      method: 'POST',
      url: '/api/v1/booking',
      headers: pendingOwner.auth,
      payload: { tour: tour.id, departure: tour.departureId, guestCount: 1 },
    });
    expect(late.statusCode).toBe(409);
  }, 120_000);

  it('answers 400 naming reason, 404 for an unknown departure, 403 to a customer', async () => {
    const tour = await createTour(t.ctx);
    const noReason = await cancelDeparture(tour.departureId, {});
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().errorSources[0].path).toBe('reason');
    const blank = await cancelDeparture(tour.departureId, { reason: '   ' });
    expect(blank.statusCode).toBe(400);
    expect((await cancelDeparture(MISSING_ID, { reason: 'x' })).statusCode).toBe(404);
    const customer = await createUser(t.ctx);
    expect((await cancelDeparture(tour.departureId, { reason: 'x' }, customer.auth)).statusCode).toBe(403);
    const view = await t.app.inject({ method: 'GET', url: `/api/v1/departures/${tour.departureId}` });
    expect(view.json().data.status).toBe('SCHEDULED');
  });
});
