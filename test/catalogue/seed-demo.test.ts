import { like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema/index.js';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import {
  DEMO_GUIDE_EMAIL,
  DEMO_TRAVELLER_EMAIL,
  demoAccountsPresent,
} from '../../src/db/seed-demo-accounts.js';
import { CHECK_IN_TRIP_TOUR, UNREVIEWED_TRIP_TOUR } from '../../src/db/seed-demo-trips.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { movableClock } from '../helpers/booking-fixtures.js';
import { createDivision } from '../helpers/catalogue.js';

let t: TestApp;
// The app's clock, which both the demo data and the reads go by: the catalogue looks the same on any day.
const clock = movableClock();
const NOW = clock.now();
const DAY_MS = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  t = await buildTestApp({ clock });
});
afterAll(() => t.close());

const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();

describe('demo catalogue', () => {
  it('loads once, even when two start-ups race, and later runs change nothing', async () => {
    const results = await Promise.all([
      seedDemoCatalogue(t.ctx.db, t.ctx.storage, clock),
      seedDemoCatalogue(t.ctx.db, t.ctx.storage, clock),
    ]);
    expect(results.sort()).toEqual([0, 27]);
    expect(await seedDemoCatalogue(t.ctx.db, t.ctx.storage, clock)).toBe(0);
    expect((await get('/api/v1/tour')).meta.total).toBe(27);
  });

  it("has Bangladesh's eight divisions with descriptions and pictures", async () => {
    const { data } = await get('/api/v1/division?limit=100&sort=name');
    expect(data.map((d: { name: string }) => d.name)).toEqual([
      'Barishal',
      'Chattogram',
      'Dhaka',
      'Khulna',
      'Mymensingh',
      'Rajshahi',
      'Rangpur',
      'Sylhet',
    ]);
    for (const d of data) {
      expect(d.description.length).toBeGreaterThan(20);
      expect(d.thumbnail).toMatch(/^http:\/\/api\.test\.local\/uploads\/images\/demo-.+\.png$/);
    }
  });

  it('has 24 bookable tours with future dates, BDT prices, seats and a served image each', async () => {
    const { data: all, meta } = await get('/api/v1/tour?limit=100&sort=startDate');
    expect(meta.total).toBe(27);
    const data = all.filter((tour: { startDate: string }) => Date.parse(tour.startDate) > NOW.getTime());
    expect(data).toHaveLength(24);
    expect((await get('/api/v1/tour/tour-types')).data.meta.total).toBeGreaterThanOrEqual(5);
    for (const tour of data) {
      expect(tour.rating).toEqual({ average: null, count: 0 });
      expect(Date.parse(tour.startDate)).toBeGreaterThan(NOW.getTime());
      expect(Date.parse(tour.endDate)).toBeGreaterThanOrEqual(Date.parse(tour.startDate));
      expect(tour.costFrom).toBeGreaterThan(500);
      // The check-in trip, hours away, is the next departure of its tour: the demo traveller's two seats.
      expect(tour.availableSeats).toBe(tour.title === CHECK_IN_TRIP_TOUR ? tour.maxGuest - 2 : tour.maxGuest);
      expect(tour.images).toHaveLength(1);
      expect(tour.tourPlan.length).toBeGreaterThan(0);
    }
    const image = await t.app.inject({ method: 'GET', url: new URL(data[0].images[0]).pathname });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.subarray(1, 4).toString()).toBe('PNG');
  });

  it('schedules three to five departures per tour over the coming months, some nearly full', async () => {
    const { data } = await get('/api/v1/tour?limit=100&fields=_id,title,departures');
    let nearlyFull = 0;
    // The past trips (their one departure has run) have nothing upcoming.
    const upcoming = data.filter((tour: { departures: number }) => tour.departures > 0);
    expect(data.length - upcoming.length).toBe(3);
    for (const tour of upcoming) {
      const from = new Date(NOW.getTime() - 400 * DAY_MS).toISOString().slice(0, 10);
      const departures = (await get(`/api/v1/tour/${tour._id}/departures?from=${from}&limit=100`)).data;
      // The traveller's finished trip is the one departure in the past.
      const upcomingRuns = departures.filter(
        (d: { startDate: string }) => Date.parse(d.startDate) > NOW.getTime(),
      );
      expect(departures.length - upcomingRuns.length).toBe(tour.title === UNREVIEWED_TRIP_TOUR ? 1 : 0);
      expect(upcomingRuns.length).toBeGreaterThanOrEqual(3);
      expect(upcomingRuns.length).toBeLessThanOrEqual(5);
      nearlyFull += departures.filter(
        (d: { availableSeats: number; capacity: number }) => d.availableSeats > 0 && d.availableSeats <= 2,
      ).length;
    }
    expect(nearlyFull).toBeGreaterThan(0);
  });

  it('opens on three past trips with their reviews and ratings, paid for by demo travellers', async () => {
    const front = await get('/api/v1/tour');
    const past = front.data.slice(0, 3);
    for (const tour of past) {
      expect(Date.parse(tour.endDate)).toBeLessThan(NOW.getTime());
      expect(tour.rating.count).toBeGreaterThanOrEqual(2);
      const reviews = await get(`/api/v1/tour/${tour._id}/reviews`);
      expect(reviews.meta).toMatchObject({ total: tour.rating.count, ...tour.rating });
      const ratings = reviews.data.map((r: { rating: number }) => r.rating);
      const average = ratings.reduce((a: number, b: number) => a + b, 0) / ratings.length;
      expect(tour.rating.average).toBe(Math.round(average * 10) / 10);
      for (const review of reviews.data) {
        expect(Date.parse(review.createdAt)).toBeGreaterThan(Date.parse(tour.endDate));
        expect(review.comment.length).toBeGreaterThan(10);
        expect(review.user.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      }
      // The seats of the paid bookings are taken.
      expect(tour.availableSeats).toBeLessThan(tour.maxGuest);
    }
    expect(past.map((tour: { rating: { average: number } }) => tour.rating.average)).toEqual([4.5, 3.5, 4.7]);
    // Each past trip's departure counts exactly the seats its paid bookings hold (the nearly full upcoming
    // departures count seats sold outside the demo on purpose, so the whole-database check does not apply).
    const counted = await t.ctx.db.execute(sql`
      select d.seats_booked, coalesce(sum(b.guest_count) filter (where b.seats_held), 0)::int as held
      from departures d left join bookings b on b.departure_id = d.id
      where d.tour_id in (${sql.join(
        past.map((tour: { _id: string }) => sql`${tour._id}::uuid`),
        sql`, `,
      )})
      group by d.id, d.seats_booked`);
    const countedRows = (counted as unknown as { rows: { seats_booked: number; held: number }[] }).rows;
    expect(countedRows).toHaveLength(3);
    for (const row of countedRows) expect(row.seats_booked).toBe(row.held);
  });

  it('has demo accounts, a guide among them, that cannot sign in without the demo password', async () => {
    const accounts = await t.ctx.db.select().from(users).where(like(users.email, '%@demo.local'));
    expect(accounts.map((u) => [u.email, u.role]).sort()).toEqual([
      ['farhana@demo.local', 'USER'],
      [DEMO_GUIDE_EMAIL, 'GUIDE'],
      ['tanvir@demo.local', 'USER'],
      [DEMO_TRAVELLER_EMAIL, 'USER'],
    ]);
    expect(accounts.every((u) => u.passwordHash === null && u.isVerified)).toBe(true);
    expect(await demoAccountsPresent(t.ctx.db)).toEqual([DEMO_GUIDE_EMAIL, DEMO_TRAVELLER_EMAIL]);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: DEMO_GUIDE_EMAIL, password: 'Demo-anything-1' },
    });
    expect(login.statusCode).toBe(401);
  });

  it('with a demo password, the guide and the traveller sign in with it', async () => {
    const other = await buildTestApp({ clock });
    try {
      expect(await seedDemoCatalogue(other.ctx.db, other.ctx.storage, clock, 'Demo-Pass-2468')).toBe(27);
      const login = (email: string) =>
        other.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email, password: 'Demo-Pass-2468' },
        });
      const guide = await login(DEMO_GUIDE_EMAIL);
      expect(guide.statusCode).toBe(200);
      expect(guide.json().data.user.role).toBe('GUIDE');
      const traveller = await login(DEMO_TRAVELLER_EMAIL);
      expect(traveller.statusCode).toBe(200);
      const mine = await other.app.inject({
        method: 'GET',
        url: '/api/v1/booking/my-bookings',
        headers: { authorization: `Bearer ${traveller.json().data.accessToken}` },
      });
      const statuses = mine.json().data.data.map((b: { status: string }) => b.status);
      expect(statuses).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);

      // One finished trip is not reviewed yet: the traveller can review it now.
      const tours = (
        await other.app.inject({ method: 'GET', url: '/api/v1/tour?limit=100&fields=_id,title' })
      ).json().data as { _id: string; title: string }[];
      const tourId = (title: string) => tours.find((tour) => tour.title === title)!._id;
      const bookingOf = (title: string) =>
        mine.json().data.data.find((b: { tour: string }) => b.tour === tourId(title)) as { _id: string };
      const travellerAuth = { authorization: `Bearer ${traveller.json().data.accessToken}` };
      const review = await other.app.inject({
        method: 'POST',
        url: `/api/v1/tour/${tourId(UNREVIEWED_TRIP_TOUR)}/reviews`,
        headers: travellerAuth,
        payload: {
          booking: bookingOf(UNREVIEWED_TRIP_TOUR)._id,
          rating: 5,
          comment: 'Tried on a demo start.',
        },
      });
      expect(review.statusCode).toBe(201);

      // Another starts within hours and is led by the demo guide: its check-in is open.
      const checkIn = await other.app.inject({
        method: 'POST',
        url: `/api/v1/booking/${bookingOf(CHECK_IN_TRIP_TOUR)._id}/check-in`,
        headers: { authorization: `Bearer ${guide.json().data.accessToken}` },
      });
      expect(checkIn.statusCode).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('makes search and filters meaningful', async () => {
    const sundarbans = await get('/api/v1/tour?searchTerm=sundarbans');
    expect(sundarbans.meta.total).toBeGreaterThanOrEqual(2);
    const { data: divisions } = await get('/api/v1/division?searchTerm=sylhet&fields=_id,name');
    const sylhet = await get(`/api/v1/tour?division=${divisions[0]._id}`);
    expect(sylhet.meta.total).toBe(3);
  });

  it('leaves a catalogue that already has data alone', async () => {
    const other = await buildTestApp();
    try {
      await createDivision(other.ctx, { name: 'Existing' });
      expect(await seedDemoCatalogue(other.ctx.db, other.ctx.storage, clock)).toBe(0);
      expect((await other.app.inject({ method: 'GET', url: '/api/v1/division' })).json().meta.total).toBe(1);
    } finally {
      await other.close();
    }
  });
});
