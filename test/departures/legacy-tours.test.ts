import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departures, emailOutbox } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createDivision, createTour, createTourType, type TestTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';

/** What a client that knows nothing of departures sees: tours and bookings keep their legacy fields. */

let t: TestApp;
let admin: TestUser;
let customer: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  customer = await createUser(t.ctx);
});
afterAll(() => t?.close());

const DAY = 24 * 3600_000;
// One instant for the whole file, so dates sent and dates expected compare equal.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = (days: number) => new Date(NOW + days * DAY);
const iso = (days: number) => at(days).toISOString();

async function scheduleMore(tour: TestTour, days: number[], capacity?: number) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/tour/${tour.id}/departures`,
    headers: admin.auth,
    payload: { departures: days.map((d) => ({ startDate: iso(d), endDate: iso(d + 2), capacity })) },
  });
  expect(res.statusCode).toBe(201);
  return res.json().data as { _id: string; startDate: string }[];
}

const bySlug = async (tour: TestTour) =>
  (await t.app.inject({ method: 'GET', url: `/api/v1/tour/${tour.slug}` })).json().data;
const inList = async (tour: TestTour) =>
  (await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${tour.id}` })).json().data[0];
const moveStart = (departureId: string, days: number) =>
  t.ctx.db
    .update(departures)
    .set({ startDate: at(days), endDate: at(days) })
    .where(eq(departures.id, departureId));
const book = (payload: object, user = customer) =>
  t.app.inject({ method: 'POST', url: '/api/v1/booking', headers: user.auth, payload });

describe('the legacy schedule of a tour', () => {
  it('describes the next bookable departure; when it has started, the one after; when none is left, the latest', async () => {
    const tour = await createTour(t.ctx, { startDate: at(5), endDate: at(7), maxGuest: 10 });
    const [second, third] = await scheduleMore(tour, [15, 25], 4);

    const first = await bySlug(tour);
    expect(first).toMatchObject({
      startDate: iso(5),
      endDate: iso(7),
      availableSeats: 10,
      maxGuest: 10,
      departures: 3,
      nextDeparture: tour.departureId,
    });
    expect(await inList(tour)).toEqual(first);

    await moveStart(tour.departureId, -1);
    expect(await bySlug(tour)).toMatchObject({
      startDate: second!.startDate,
      availableSeats: 4,
      departures: 2,
      nextDeparture: second!._id,
    });

    // A CLOSED departure is not bookable: the legacy fields skip it.
    await t.ctx.db.update(departures).set({ status: 'CLOSED' }).where(eq(departures.id, second!._id));
    expect(await bySlug(tour)).toMatchObject({ startDate: third!.startDate, nextDeparture: third!._id });

    await moveStart(second!._id, -3);
    await moveStart(third!._id, -2);
    const over = await bySlug(tour);
    expect(over).toMatchObject({ departures: 0, nextDeparture: null });
    // The latest of them: the first, which started yesterday (the others two and three days ago).
    expect(over.startDate).toBe(iso(-1));
    expect(await inList(tour)).toMatchObject({ departures: 0, nextDeparture: null });
  });

  it('shows the booked departure’s dates in a booking’s tour, whatever the tour’s next departure', async () => {
    const tour = await createTour(t.ctx, { startDate: at(5) });
    const [later] = await scheduleMore(tour, [30]);
    const res = await book({ tour: tour.id, departure: later!._id, guestCount: 2 });
    expect(res.statusCode).toBe(201);
    const booking = res.json().data.booking;
    expect(booking.departure).toBe(later!._id);
    expect(booking.tour.startDate).toBe(later!.startDate);
    expect((await bySlug(tour)).startDate).toBe(iso(5));
    const mine = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking/my-bookings?departure=${later!._id}`,
      headers: customer.auth,
    });
    expect(mine.json().data.data.map((b: { _id: string }) => b._id)).toEqual([booking._id]);
  });

  it('creates a tour’s first departure with POST /tour/create and moves it with PATCH /tour/:id', async () => {
    const division = await createDivision(t.ctx);
    const tourType = await createTourType(t.ctx);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tour/create',
      headers: admin.auth,
      payload: {
        title: 'Legacy Created',
        costFrom: 3000,
        maxGuest: 9,
        division: division.id,
        tourType: tourType.id,
        startDate: iso(20).slice(0, 10),
        endDate: iso(22).slice(0, 10),
      },
    });
    expect(created.statusCode).toBe(201);
    const tour = created.json().data;
    expect(tour).toMatchObject({ availableSeats: 9, departures: 1 });
    const listed = (await t.app.inject({ method: 'GET', url: `/api/v1/tour/${tour._id}/departures` })).json();
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({ _id: tour.nextDeparture, capacity: 9, startDate: tour.startDate });

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${tour._id}`,
      headers: admin.auth,
      payload: { startDate: iso(40).slice(0, 10), endDate: iso(41).slice(0, 10), maxGuest: 12 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().data).toMatchObject({
      startDate: `${iso(40).slice(0, 10)}T00:00:00.000Z`,
      availableSeats: 12,
      maxGuest: 12,
      departures: 1,
      nextDeparture: tour.nextDeparture,
    });
  });

  it('schedules a tour with no departure left again when PATCH /tour/:id gives it new dates', async () => {
    const tour = await createTour(t.ctx, { startDate: at(-10), endDate: at(-8) });
    expect((await bySlug(tour)).nextDeparture).toBeNull();
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${tour.id}`,
      headers: admin.auth,
      payload: { startDate: iso(12), endDate: iso(14) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ startDate: iso(12), departures: 1 });
    expect((await book({ tour: tour.id, guestCount: 1 })).statusCode).toBe(201);
  });
});

describe('PATCH /tour/:id keeps the rules of PATCH /departures/:id', () => {
  const patchTour = (tour: TestTour, payload: object) =>
    t.app.inject({ method: 'PATCH', url: `/api/v1/tour/${tour.id}`, headers: admin.auth, payload });
  const departureOf = async (tour: TestTour) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/departures/${tour.departureId}` })).json().data;

  /** A 10-seat tour whose next departure has a paid booking of 6 seats. */
  async function soldTour() {
    const tour = await createTour(t.ctx, { maxGuest: 10, startDate: at(20), endDate: at(22) });
    const buyer = await createUser(t.ctx);
    const paid = await bookThroughApi(t.app, buyer, tour.id, 6);
    expect(await payOnLocalGateway(t.app, paid.paymentUrl)).toBe(302);
    return { tour, buyer, before: await departureOf(tour) };
  }

  it('refuses to move a sold departure into the past (400 naming startDate), changing nothing', async () => {
    const { tour, before } = await soldTour();
    const res = await patchTour(tour, { startDate: iso(-3), endDate: iso(-1) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toEqual(['startDate']);
    expect(await departureOf(tour)).toEqual(before);
  });

  it.each([
    ['null', null, 400],
    ['above the maximum of 1000', 1001, 400],
    ['zero', 0, 400],
    ['below the seats booked', 5, 409],
  ])(
    'refuses a maxGuest that is %s, so the departure is never unlimited or oversold',
    async (_, maxGuest, status) => {
      const { tour, before } = await soldTour();
      const res = await patchTour(tour, { maxGuest });
      expect(res.statusCode).toBe(status);
      if (status === 400) expect(res.json().errorSources[0].path).toBe('maxGuest');
      expect(await departureOf(tour)).toEqual(before);
      expect((await bySlug(tour)).maxGuest).toBe(10);
      // The 4 seats left are all there is.
      const over = await book({ tour: tour.id, guestCount: 5 }, await createUser(t.ctx));
      expect(over.statusCode).toBe(409);
      expect(over.json().code).toBe('SOLD_OUT');
      expect((await departureOf(tour)).bookedSeats).toBe(6);
    },
  );

  it('mails the paid customers of the departure it reschedules, as PATCH /departures/:id does', async () => {
    const { tour, buyer } = await soldTour();
    const res = await patchTour(tour, { startDate: iso(30), endDate: iso(32), maxGuest: 12 });
    expect(res.statusCode).toBe(200);
    expect(await departureOf(tour)).toMatchObject({ startDate: iso(30), capacity: 12, bookedSeats: 6 });
    const mails = await t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, buyer.email));
    const changed = mails.filter((m) => m.template === 'departure-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.text).toContain(iso(30).slice(0, 10));
  });

  it('schedules a tour again only in the future and with a capacity of 1 to 1000', async () => {
    const past = await createTour(t.ctx, { maxGuest: 10, startDate: at(-10), endDate: at(-8) });
    const inPast = await patchTour(past, { startDate: iso(-2), endDate: iso(-1) });
    expect(inPast.statusCode).toBe(400);
    expect(inPast.json().errorSources[0].path).toBe('startDate');
    const unlimited = await patchTour(past, { startDate: iso(5), endDate: iso(6), maxGuest: null });
    expect(unlimited.statusCode).toBe(400);
    expect(unlimited.json().errorSources[0].path).toBe('maxGuest');
    const rows = await t.ctx.db.select().from(departures).where(eq(departures.tourId, past.id));
    expect(rows).toHaveLength(1);
  });
});

describe('GET /tour departure filters and sort', () => {
  it('keeps tours with a SCHEDULED departure starting in the range, and sorts by the next departure', async () => {
    const division = await createDivision(t.ctx);
    const early = await createTour(t.ctx, { division: division.id, startDate: at(3) });
    const late = await createTour(t.ctx, { division: division.id, startDate: at(8) });
    await scheduleMore(late, [50]);
    const cancelledOnly = await createTour(t.ctx, { division: division.id, startDate: at(50) });
    await t.ctx.db
      .update(departures)
      .set({ status: 'CANCELLED' })
      .where(eq(departures.id, cancelledOnly.departureId));
    const ids = async (query: string) => {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour?division=${division.id}${query}` });
      expect(res.statusCode).toBe(200);
      return res.json().data.map((x: { _id: string }) => x._id);
    };
    const day = (d: number) => iso(d).slice(0, 10);
    expect(await ids(`&departureFrom=${day(45)}&departureTo=${day(55)}`)).toEqual([late.id]);
    expect(await ids(`&departureTo=${day(4)}`)).toEqual([early.id]);
    expect(await ids(`&departureFrom=${day(1)}&sort=startDate`)).toEqual([early.id, late.id]);
    expect(await ids('&sort=-startDate')).toEqual([cancelledOnly.id, late.id, early.id]);
  });

  it.each([
    ['departureFrom', '?departureFrom=tomorrow'],
    ['departureTo', '?departureTo=2027-13-01'],
  ])('answers 400 naming %s', async (field, query) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe(field);
  });
});

describe('POST /booking and departures', () => {
  it('books the next bookable departure by default, sold out there is 409 SOLD_OUT, never another date', async () => {
    const tour = await createTour(t.ctx, { startDate: at(5), maxGuest: 2 });
    const [later] = await scheduleMore(tour, [20], 10);
    const first = await book({ tour: tour.id, guestCount: 2 });
    expect(first.statusCode).toBe(201);
    expect(first.json().data.booking.departure).toBe(tour.departureId);
    const soldOut = await book({ tour: tour.id, guestCount: 1 }, await createUser(t.ctx));
    expect(soldOut.statusCode).toBe(409);
    expect(soldOut.json().code).toBe('SOLD_OUT');
    const [row] = await t.ctx.db.select().from(departures).where(eq(departures.id, later!._id));
    expect(row!.seatsBooked).toBe(0);
  });

  it('answers 400 naming departure for a departure of another tour, 404 for an unknown one', async () => {
    const tour = await createTour(t.ctx);
    const other = await createTour(t.ctx);
    const res = await book({ tour: tour.id, departure: other.departureId, guestCount: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('departure');
    const unknown = await book({
      tour: tour.id,
      departure: '01a21902-3a43-70fa-9b6d-4aa9740e4795',
      guestCount: 1,
    });
    expect(unknown.statusCode).toBe(404);
    const malformed = await book({ tour: tour.id, departure: 'x', guestCount: 1 });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errorSources[0].path).toBe('departure');
  });

  it('answers 409 for a departure that has started or is cancelled', async () => {
    const tour = await createTour(t.ctx);
    const [started] = await scheduleMore(tour, [40]);
    await moveStart(started!._id, -1);
    const res = await book({ tour: tour.id, departure: started!._id, guestCount: 1 });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/started/);
    await t.ctx.db.update(departures).set({ status: 'CANCELLED' }).where(eq(departures.id, tour.departureId));
    const cancelled = await book({ tour: tour.id, departure: tour.departureId, guestCount: 1 });
    expect(cancelled.statusCode).toBe(409);
    expect(cancelled.json().message).toMatch(/cancelled/);
  });
});
