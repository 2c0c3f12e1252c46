import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departures, emailOutbox } from '../../src/db/schema/index.js';
import { markDepartureCancelled } from '../../src/modules/departures/service.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
let guide: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  user = await createUser(t.ctx);
  guide = await createUser(t.ctx, { role: 'GUIDE' });
});
afterAll(() => t?.close());

const DAY = 24 * 3600_000;
const MISSING_ID = '01a21902-3a43-70fa-9b6d-4aa9740e4795';
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

const schedule = (tourId: string, payload: object, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'POST', url: `/api/v1/tour/${tourId}/departures`, headers, payload });
const patch = (id: string, payload: object, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/departures/${id}`, headers, payload });
const list = (tourId: string, query = '') =>
  t.app.inject({ method: 'GET', url: `/api/v1/tour/${tourId}/departures${query}` });
const getOne = (id: string) => t.app.inject({ method: 'GET', url: `/api/v1/departures/${id}` });

describe('POST /tour/:tourId/departures', () => {
  it('schedules one departure with the tour’s seats and price by default', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 12, costFromMinor: 250_000 });
    const res = await schedule(tour.id, { startDate: inDays(40), endDate: inDays(42) });
    expect(res.statusCode).toBe(201);
    const [created] = res.json().data;
    expect(created).toMatchObject({
      tour: tour.id,
      capacity: 12,
      bookedSeats: 0,
      availableSeats: 12,
      price: 2500,
      currency: 'BDT',
      status: 'SCHEDULED',
      guide: null,
    });
    expect(Object.keys(created).sort()).toEqual(
      [
        '_id',
        'tour',
        'startDate',
        'endDate',
        'capacity',
        'bookedSeats',
        'availableSeats',
        'price',
        'currency',
        'status',
        'guide',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect((await getOne(created._id)).json().data).toEqual(created);
  });

  it('schedules a batch in one go, with its own capacity, price and guide', async () => {
    const tour = await createTour(t.ctx);
    const res = await schedule(tour.id, {
      departures: [
        { startDate: inDays(60), endDate: inDays(61), capacity: 5, price: 999.5, guide: guide.id },
        { startDate: inDays(50), endDate: inDays(51) },
      ],
    });
    expect(res.statusCode).toBe(201);
    const data = res.json().data;
    expect(data).toHaveLength(2);
    // In the order sent (not soonest first), so a client can match each result to its input.
    expect(data[0]).toMatchObject({ capacity: 5, price: 999.5, guide: guide.id });
    expect(data[1]).toMatchObject({ capacity: 20, price: 1500.5, guide: null });
    expect(data.map((d: { startDate: string }) => d.startDate.slice(0, 10))).toEqual([
      inDays(60).slice(0, 10),
      inDays(50).slice(0, 10),
    ]);
  });

  it.each([
    ['endDate', { startDate: inDays(10), endDate: inDays(9) }],
    ['startDate', { startDate: new Date(Date.now() - DAY).toISOString(), endDate: inDays(1) }],
    ['startDate', { startDate: 'soon', endDate: inDays(1) }],
    ['capacity', { startDate: inDays(10), endDate: inDays(11), capacity: 0 }],
    ['capacity', { startDate: inDays(10), endDate: inDays(11), capacity: 1001 }],
    ['capacity', { startDate: inDays(10), endDate: inDays(11), capacity: 2.5 }],
    ['price', { startDate: inDays(10), endDate: inDays(11), price: -1 }],
    ['guide', { startDate: inDays(10), endDate: inDays(11), guide: 'nobody' }],
    ['endDate', { startDate: inDays(10) }],
    [
      'departures.0.capacity',
      { departures: [{ startDate: inDays(10), endDate: inDays(11), capacity: 2.5 }] },
    ],
    ['startDate', { departures: [{ startDate: inDays(10), endDate: inDays(11) }], startDate: inDays(12) }],
  ])('answers 400 naming %s', async (field, payload) => {
    const tour = await createTour(t.ctx);
    const res = await schedule(tour.id, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toContain(field);
    expect(await t.ctx.db.select().from(departures).where(eq(departures.tourId, tour.id))).toHaveLength(1);
  });

  it('answers 400 naming the batch item at fault, and creates none of the batch', async () => {
    const tour = await createTour(t.ctx);
    const res = await schedule(tour.id, {
      departures: [
        { startDate: inDays(10), endDate: inDays(11) },
        { startDate: new Date(Date.now() - DAY).toISOString(), endDate: inDays(11) },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('departures.1.startDate');
    expect((await list(tour.id)).json().meta.total).toBe(1);
  });

  it('answers 400 for a guide who is not a GUIDE, and for more than 100 departures', async () => {
    const tour = await createTour(t.ctx);
    const notGuide = await schedule(tour.id, { startDate: inDays(10), endDate: inDays(11), guide: user.id });
    expect(notGuide.statusCode).toBe(400);
    expect(notGuide.json().errorSources[0].path).toBe('guide');
    const many = Array.from({ length: 101 }, (_, k) => ({
      startDate: inDays(10 + k),
      endDate: inDays(11 + k),
    }));
    const tooMany = await schedule(tour.id, { departures: many });
    expect(tooMany.statusCode).toBe(400);
  });

  it('needs a capacity when the tour has no maxGuest to default to', async () => {
    const tour = await createTour(t.ctx, { maxGuest: null });
    const res = await schedule(tour.id, { startDate: inDays(10), endDate: inDays(11) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('capacity');
    expect(
      (await schedule(tour.id, { startDate: inDays(10), endDate: inDays(11), capacity: 8 })).statusCode,
    ).toBe(201);
  });

  it('answers 409 for two departures of one tour starting at the same instant, also within one batch', async () => {
    const tour = await createTour(t.ctx);
    const start = inDays(70);
    expect((await schedule(tour.id, { startDate: start, endDate: inDays(71) })).statusCode).toBe(201);
    const again = await schedule(tour.id, { startDate: start, endDate: inDays(72) });
    expect(again.statusCode).toBe(409);
    // One instant read once: two reads of the clock can differ by a millisecond on a busy machine.
    const later = inDays(80);
    const batch = await schedule(tour.id, {
      departures: [
        { startDate: later, endDate: inDays(81) },
        { startDate: later, endDate: inDays(82) },
      ],
    });
    expect(batch.statusCode).toBe(409);
    expect((await list(tour.id)).json().meta.total).toBe(2);
    // Another tour may start at that instant.
    expect(
      (await schedule((await createTour(t.ctx)).id, { startDate: start, endDate: start })).statusCode,
    ).toBe(201);
  });

  it('answers 404 for an unknown tour and 400 for a malformed tour id', async () => {
    expect((await schedule(MISSING_ID, { startDate: inDays(10), endDate: inDays(11) })).statusCode).toBe(404);
    const bad = await schedule('not-an-id', { startDate: inDays(10), endDate: inDays(11) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('tourId');
  });

  it('answers 401 without a token and 403 for a USER or a GUIDE', async () => {
    const tour = await createTour(t.ctx);
    const body = { startDate: inDays(10), endDate: inDays(11) };
    expect((await schedule(tour.id, body, {})).statusCode).toBe(401);
    expect((await schedule(tour.id, body, user.auth)).statusCode).toBe(403);
    expect((await schedule(tour.id, body, guide.auth)).statusCode).toBe(403);
  });
});

describe('GET /tour/:tourId/departures', () => {
  it('lists upcoming SCHEDULED departures soonest first, with from/to, status and pages', async () => {
    const tour = await createTour(t.ctx, { startDate: new Date(Date.now() + 5 * DAY) });
    const created = (
      await schedule(tour.id, {
        departures: [20, 10, 30, 40].map((d) => ({ startDate: inDays(d), endDate: inDays(d + 1) })),
      })
    ).json().data;
    // In the order sent: created[3] starts in 40 days, created[0] in 20.
    await patch(created[3]._id, { status: 'CLOSED' });
    await t.ctx.db
      .update(departures)
      .set({ startDate: new Date(Date.now() - DAY), endDate: new Date(Date.now() - DAY) })
      .where(eq(departures.id, tour.departureId));

    const all = (await list(tour.id)).json();
    expect(all.meta).toEqual({ page: 1, limit: 10, total: 3, totalPage: 1 });
    const starts = all.data.map((d: { startDate: string }) => Date.parse(d.startDate));
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(all.data.every((d: { status: string }) => d.status === 'SCHEDULED')).toBe(true);

    const page2 = (await list(tour.id, '?limit=2&page=2')).json();
    expect(page2.data).toHaveLength(1);
    expect(page2.meta).toMatchObject({ page: 2, limit: 2, total: 3, totalPage: 2 });

    const closedOnes = (await list(tour.id, '?status=CLOSED')).json();
    expect(closedOnes.data.map((d: { _id: string }) => d._id)).toEqual([created[3]._id]);

    const day15to25 = (
      await list(tour.id, `?from=${inDays(15).slice(0, 10)}&to=${inDays(25).slice(0, 10)}`)
    ).json();
    expect(day15to25.data.map((d: { _id: string }) => d._id)).toEqual([created[0]._id]);

    const withPast = (await list(tour.id, `?from=${new Date(Date.now() - 10 * DAY).toISOString()}`)).json();
    expect(withPast.data[0]._id).toBe(tour.departureId);
  });

  it.each([
    ['from', '?from=yesterday'],
    ['to', '?to=2027-02-30'],
    ['status', '?status=OPEN'],
    ['page', '?page=0'],
  ])('answers 400 naming %s', async (field, query) => {
    const tour = await createTour(t.ctx);
    const res = await list(tour.id, query);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe(field);
  });

  it('answers 404 for an unknown tour, and does not shadow GET /tour/:slug', async () => {
    expect((await list(MISSING_ID)).statusCode).toBe(404);
    const tour = await createTour(t.ctx);
    const bySlug = await t.app.inject({ method: 'GET', url: `/api/v1/tour/${tour.slug}` });
    expect(bySlug.statusCode).toBe(200);
    expect(bySlug.json().data._id).toBe(tour.id);
  });
});

describe('GET /departures/:id', () => {
  it('answers 404 for an unknown departure and 400 naming a malformed id', async () => {
    expect((await getOne(MISSING_ID)).statusCode).toBe(404);
    const bad = await getOne('x');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('id');
  });
});

describe('PATCH /departures/:id', () => {
  it('changes capacity, never below the seats booked (409)', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 10 });
    await bookThroughApi(t.app, await createUser(t.ctx), tour.id, 3);
    const below = await patch(tour.departureId, { capacity: 2 });
    expect(below.statusCode).toBe(409);
    expect(below.json().message).toMatch(/3 seat/);
    const exact = await patch(tour.departureId, { capacity: 3 });
    expect(exact.json().data).toMatchObject({ capacity: 3, bookedSeats: 3, availableSeats: 0 });
    const raised = await patch(tour.departureId, { capacity: 15 });
    expect(raised.json().data).toMatchObject({ capacity: 15, availableSeats: 12 });
  });

  it('closes and reopens a departure; a closed one takes no bookings (409)', async () => {
    const tour = await createTour(t.ctx);
    expect((await patch(tour.departureId, { status: 'CLOSED' })).json().data.status).toBe('CLOSED');
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/booking',
      headers: user.auth,
      payload: { tour: tour.id, departure: tour.departureId, guestCount: 1 },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/closed/);
    expect((await patch(tour.departureId, { status: 'SCHEDULED' })).json().data.status).toBe('SCHEDULED');
    const cancel = await patch(tour.departureId, { status: 'CANCELLED' });
    expect(cancel.statusCode).toBe(400);
    expect(cancel.json().errorSources[0].path).toBe('status');
  });

  it('prices new bookings only, and null goes back to the tour’s costFrom', async () => {
    const tour = await createTour(t.ctx, { costFromMinor: 100_000 });
    const before = await bookThroughApi(t.app, await createUser(t.ctx), tour.id);
    expect((await patch(tour.departureId, { price: 1234.56 })).json().data.price).toBe(1234.56);
    const after = await bookThroughApi(t.app, await createUser(t.ctx), tour.id);
    const unitPrice = async (bookingId: string) =>
      (await t.app.inject({ method: 'GET', url: `/api/v1/booking/${bookingId}`, headers: admin.auth })).json()
        .data.unitPrice;
    expect(await unitPrice(before.bookingId)).toBe(1000);
    expect(await unitPrice(after.bookingId)).toBe(1234.56);
    expect((await patch(tour.departureId, { price: null })).json().data.price).toBe(1000);
  });

  it('assigns a guide (400 for a user who is not one) and unassigns with null', async () => {
    const tour = await createTour(t.ctx);
    expect((await patch(tour.departureId, { guide: guide.id })).json().data.guide).toBe(guide.id);
    const notGuide = await patch(tour.departureId, { guide: admin.id });
    expect(notGuide.statusCode).toBe(400);
    expect(notGuide.json().errorSources[0].path).toBe('guide');
    expect((await patch(tour.departureId, { guide: null })).json().data.guide).toBeNull();
  });

  it('validates dates against the stored ones and refuses a start in the past', async () => {
    const tour = await createTour(t.ctx, { startDate: new Date(Date.now() + 10 * DAY) });
    const endBefore = await patch(tour.departureId, { endDate: inDays(9) });
    expect(endBefore.statusCode).toBe(400);
    expect(endBefore.json().errorSources[0].path).toBe('endDate');
    const past = await patch(tour.departureId, { startDate: new Date(Date.now() - DAY).toISOString() });
    expect(past.statusCode).toBe(400);
    expect(past.json().errorSources[0].path).toBe('startDate');
    const other = (await schedule(tour.id, { startDate: inDays(30), endDate: inDays(31) })).json().data[0];
    expect(
      (await patch(tour.departureId, { startDate: other.startDate, endDate: inDays(32) })).statusCode,
    ).toBe(409);
  });

  it('refuses to change a cancelled departure (409)', async () => {
    const tour = await createTour(t.ctx);
    await t.ctx.db.transaction(async (tx) => {
      const [row] = await tx.select().from(departures).where(eq(departures.id, tour.departureId));
      await markDepartureCancelled(tx, row!, 'Storm warning');
    });
    const res = await patch(tour.departureId, { capacity: 30 });
    expect(res.statusCode).toBe(409);
    expect((await getOne(tour.departureId)).json().data.status).toBe('CANCELLED');
  });

  it('mails the customers with paid bookings when the dates change, and nobody else', async () => {
    const tour = await createTour(t.ctx, { title: 'Sundarbans Boat Trip' });
    const paidCustomer = await createUser(t.ctx);
    const pendingCustomer = await createUser(t.ctx);
    const paid = await bookThroughApi(t.app, paidCustomer, tour.id, 2);
    expect(await payOnLocalGateway(t.app, paid.paymentUrl)).toBeLessThan(400);
    await bookThroughApi(t.app, pendingCustomer, tour.id);
    const mailsTo = (email: string) => t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email));
    const before = (await mailsTo(paidCustomer.email)).length;

    // Capacity alone is no news to customers.
    await patch(tour.departureId, { capacity: 25 });
    expect(await mailsTo(paidCustomer.email)).toHaveLength(before);

    const res = await patch(tour.departureId, { startDate: inDays(45), endDate: inDays(47) });
    expect(res.statusCode).toBe(200);
    const mails = (await mailsTo(paidCustomer.email)).filter((m) => m.template === 'departure-changed');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('Sundarbans Boat Trip');
    expect(mails[0]!.text).toContain(inDays(45).slice(0, 10));
    expect(
      (await mailsTo(pendingCustomer.email)).filter((m) => m.template === 'departure-changed'),
    ).toHaveLength(0);
  });

  it('answers 404 for an unknown departure, 401 without a token and 403 for a USER', async () => {
    expect((await patch(MISSING_ID, { capacity: 5 })).statusCode).toBe(404);
    const tour = await createTour(t.ctx);
    expect((await patch(tour.departureId, { capacity: 5 }, {})).statusCode).toBe(401);
    expect((await patch(tour.departureId, { capacity: 5 }, user.auth)).statusCode).toBe(403);
  });
});
