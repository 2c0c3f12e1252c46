import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, departures, emailOutbox, jobs, waitlistEntries } from '../../src/db/schema/index.js';
import { queueOffers } from '../../src/modules/waitlists/hooks.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { jobWorker } from '../helpers/refund-worker.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

/** Two app instances on one PostgreSQL database, each running its job worker at the same time. */
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await buildTestApp();
  b = await buildTestApp({ databaseName: new URL(a.databaseUrl).pathname.slice(1) });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('waitlist offers with two instances', () => {
  it('seats freed by cancellations are offered once, to the first entries that fit, with both workers racing', async () => {
    const tour = await createTour(a.ctx, { costFrom: 500, maxGuest: 5 });
    const owners = [await createUser(a.ctx), await createUser(a.ctx), await createUser(a.ctx)];
    const paid = await bookThroughApi(a.app, owners[0]!, tour.id, 2);
    expect(await payOnLocalGateway(a.app, paid.paymentUrl)).toBe(302);
    const pending = await bookThroughApi(a.app, owners[1]!, tour.id, 1);
    await bookThroughApi(a.app, owners[2]!, tour.id, 2);

    const waiting: { user: TestUser; guests: number }[] = [];
    for (const guests of [4, 2, 1, 1]) {
      const user = await createUser(a.ctx);
      const res = await (waiting.length % 2 === 0 ? a : b).app.inject({
        method: 'POST',
        url: `/api/v1/departures/${tour.departureId}/waitlist`,
        headers: user.auth,
        payload: { guestCount: guests },
      });
      expect(res.statusCode, res.body).toBe(201);
      waiting.push({ user, guests });
    }

    // Three seats come free, through both instances at once: each cancellation hands the seats it frees to
    // the offers in its own transaction, so no offer job is queued for them.
    const cancelled = await Promise.all(
      (
        [
          [a, paid, owners[0]!],
          [b, pending, owners[1]!],
        ] as const
      ).map(([app, booked, owner]) =>
        app.app.inject({
          method: 'POST',
          url: `/api/v1/booking/${booked.bookingId}/cancel`,
          headers: owner.auth,
          payload: {},
        }),
      ),
    );
    expect(cancelled.map((res) => res.statusCode)).toEqual([200, 200]);
    // Offer jobs for the same seats, as other freeings would queue: each must find them taken.
    for (let k = 0; k < 6; k++) await a.ctx.db.transaction((tx) => queueOffers(tx, [tour.departureId]));
    const offerJobs = await a.ctx.db.select().from(jobs).where(eq(jobs.kind, 'waitlist.offer'));
    expect(offerJobs).toHaveLength(6);

    const workers = [jobWorker(a.app), jobWorker(b.app)];
    const later = new Date(Date.now() + 60_000);
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all(workers.map((run) => run(later, { batch: 3 })));
      for (const summary of runs) expect(summary.failed + summary.dead).toBe(0);
    }

    const entries = await a.ctx.db
      .select()
      .from(waitlistEntries)
      .where(eq(waitlistEntries.departureId, tour.departureId))
      .orderBy(waitlistEntries.createdAt, waitlistEntries.id);
    // 4 guests do not fit 3 seats: skipped; 2 and 1 do; the last 1 finds none left.
    expect(entries.map((e) => e.status)).toEqual(['WAITING', 'OFFERED', 'OFFERED', 'WAITING']);
    const offers = await a.ctx.db.select().from(bookings).where(eq(bookings.departureId, tour.departureId));
    const offerBookings = offers.filter((o) => entries.some((e) => e.bookingId === o.id));
    const byUser = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0]));
    expect(offerBookings.map((o) => [o.userId, o.guestCount, o.status]).sort(byUser)).toEqual(
      [
        [waiting[1]!.user.id, 2, 'PENDING'],
        [waiting[2]!.user.id, 1, 'PENDING'],
      ].sort(byUser),
    );
    // One booking per offered traveller, never two.
    for (const w of waiting) {
      expect(offers.filter((o) => o.userId === w.user.id).length).toBeLessThanOrEqual(1);
    }
    const [departure] = await a.ctx.db.select().from(departures).where(eq(departures.id, tour.departureId));
    expect(departure!.seatsBooked).toBe(5);
    // One offer mail each.
    for (const w of [waiting[1]!, waiting[2]!]) {
      const mails = await a.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, w.user.email));
      expect(mails.filter((m) => m.template === 'waitlist-offer')).toHaveLength(1);
    }
    await expectConsistentBookings(a.ctx.db);
  }, 60_000);
});
