import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departures, tours } from '../../src/db/schema/index.js';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import { toMajor } from '../../src/lib/money.js';
import { tourRating } from '../../src/modules/tours/rating.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';

/*
 * The tour reads take their rows shaped by PostgreSQL (API names, instants as ISO text, money in major units,
 * the legacy seats and next departure decided in SQL). Here every tour is rebuilt in JavaScript from its stored
 * columns, as the API defines it, and GET /tour and GET /tour/:slug must answer exactly that.
 */

let t: TestApp;
const DAY = 86_400_000;

beforeAll(async () => {
  t = await buildTestApp();
  await seedDemoCatalogue(t.ctx.db, t.ctx.storage, t.ctx.clock);
  const now = t.ctx.clock.now().getTime();
  // Every nullable field null, and no departure at all.
  const bare = await createTour(t.ctx, {
    title: 'Bare Tour',
    description: null,
    costFromMinor: null,
    maxGuest: null,
    minAge: null,
    location: null,
    cancellationPolicy: [],
  });
  await t.ctx.db.delete(departures).where(eq(departures.tourId, bare.id));
  // Odd cents, an unlimited departure, a closed and a cancelled one, a past one only, a sold-out one.
  await createTour(t.ctx, { title: 'Cents', costFromMinor: 7, maxGuest: 3 });
  const unlimited = await createTour(t.ctx, { title: 'Unlimited', costFromMinor: 100_000_000_99 });
  await t.ctx.db.update(departures).set({ capacity: null }).where(eq(departures.id, unlimited.departureId));
  const closed = await createTour(t.ctx, { title: 'Closed' });
  await t.ctx.db.update(departures).set({ status: 'CLOSED' }).where(eq(departures.id, closed.departureId));
  const cancelled = await createTour(t.ctx, { title: 'Cancelled' });
  await t.ctx.db
    .update(departures)
    .set({ status: 'CANCELLED' })
    .where(eq(departures.id, cancelled.departureId));
  await createTour(t.ctx, { title: 'Past', startDate: new Date(now - 40 * DAY) });
  const full = await createTour(t.ctx, { title: 'Full', maxGuest: 2 });
  await t.ctx.db.update(departures).set({ seatsBooked: 2 }).where(eq(departures.id, full.departureId));
  // Instants with microseconds (the API shows milliseconds, cut as a JavaScript Date cuts them).
  await t.ctx.db.execute(
    sql`update tours set created_at = created_at + interval '0.000999 s', updated_at = '2030-01-02 03:04:05.678999+00'`,
  );
  await t.ctx.db.execute(sql`update departures set end_date = end_date + interval '0.123456 s'`);
});
afterAll(() => t.close());

/** A tour as the API defines it, from its stored columns and departures. */
async function expectedTours(now: Date) {
  const rows = await t.ctx.db.select().from(tours);
  const runs = await t.ctx.db.select().from(departures);
  return new Map(
    rows.map((row) => {
      const own = runs.filter((d) => d.tourId === row.id);
      const bookable = own.filter((d) => d.status === 'SCHEDULED' && d.startDate > now);
      const next =
        [...bookable].sort((a, b) => a.startDate.getTime() - b.startDate.getTime())[0] ??
        [...own].sort((a, b) => b.startDate.getTime() - a.startDate.getTime())[0];
      const seats =
        next === undefined
          ? row.maxGuest
          : next.capacity === null
            ? null
            : next.status !== 'SCHEDULED'
              ? 0
              : Math.max(0, next.capacity - next.seatsBooked);
      return [
        row.slug,
        {
          _id: row.id,
          slug: row.slug,
          title: row.title,
          description: row.description,
          images: row.images,
          costFrom: row.costFromMinor === null ? null : toMajor(row.costFromMinor),
          currency: row.currency,
          maxGuest: row.maxGuest,
          minAge: row.minAge,
          availableSeats: seats,
          departureLocation: row.departureLocation,
          arrivalLocation: row.arrivalLocation,
          location: row.location,
          startDate: next?.startDate.toISOString() ?? null,
          endDate: next?.endDate.toISOString() ?? null,
          amenities: row.amenities,
          included: row.included,
          excluded: row.excluded,
          tourPlan: row.tourPlan,
          division: row.divisionId,
          tourType: row.tourTypeId,
          cancellationPolicy: row.cancellationPolicy,
          departures: bookable.length,
          nextDeparture: next && bookable.includes(next) ? next.id : null,
          rating: tourRating(row.ratingSum, row.ratingCount),
          createdAt: row.createdAt.toISOString(),
          updatedAt: row.updatedAt.toISOString(),
        },
      ];
    }),
  );
}

describe('tour rows shaped by PostgreSQL', () => {
  it('GET /tour and GET /tour/:slug answer every tour exactly as its stored columns define it', async () => {
    const expected = await expectedTours(t.ctx.clock.now());
    expect(expected.size).toBe(27 + 7);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/tour?limit=100' });
    expect(list.statusCode).toBe(200);
    const listed = list.json().data as { slug: string }[];
    expect(listed).toHaveLength(expected.size);
    for (const tour of listed) expect(tour).toStrictEqual(expected.get(tour.slug));
    for (const [slug, tour] of expected) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour/${slug}` });
      expect(res.json().data).toStrictEqual(tour);
    }
    // The cases this file is about, spelled out.
    expect(expected.get('bare-tour')).toMatchObject({ startDate: null, availableSeats: null, departures: 0 });
    expect(expected.get('cents')).toMatchObject({ costFrom: 0.07, availableSeats: 3 });
    expect(expected.get('unlimited')).toMatchObject({ costFrom: 100_000_000.99, availableSeats: null });
    expect(expected.get('closed')).toMatchObject({ availableSeats: 0, nextDeparture: null, departures: 0 });
    expect(expected.get('full')).toMatchObject({ availableSeats: 0, departures: 1 });
    expect(expected.get('past')?.nextDeparture).toBeNull();
    expect(expected.get('cents')?.updatedAt).toBe('2030-01-02T03:04:05.678Z');
  });
});
