import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, departures } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

/**
 * Two app instances on one PostgreSQL database, as replicas behind a load balancer, each with the production
 * default pool (20): a hundred requests at once per instance is what this test is about.
 */

const env = { DATABASE_POOL_MAX: '20' };
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await buildTestApp({ env });
  b = await buildTestApp({ env, databaseName: new URL(a.databaseUrl).pathname.slice(1) });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('seats of one departure booked through two instances', () => {
  it('200 parallel bookings on a 50-seat departure: exactly 50 seats held, the rest SOLD_OUT, no 5xx', async () => {
    const tour = await createTour(a.ctx, { maxGuest: 50 });
    const customers: TestUser[] = [];
    for (let k = 0; k < 200; k++) customers.push(await createUser(a.ctx));
    const responses = await Promise.all(
      customers.map((customer, k) =>
        (k % 2 === 0 ? a : b).app.inject({
          method: 'POST',
          url: '/api/v1/booking',
          headers: customer.auth,
          payload: { tour: tour.id, departure: tour.departureId, guestCount: 1 },
        }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    const refused = responses.filter((r) => r.statusCode === 409);
    expect(refused).toHaveLength(150);
    for (const r of refused) expect(r.json().code).toBe('SOLD_OUT');

    const [departure] = await a.ctx.db.select().from(departures).where(eq(departures.id, tour.departureId));
    expect(departure!.seatsBooked).toBe(50);
    const held = await a.ctx.db.select().from(bookings).where(eq(bookings.departureId, tour.departureId));
    expect(held).toHaveLength(50);
    await expectConsistentBookings(a.ctx.db);
  }, 120_000);
});
