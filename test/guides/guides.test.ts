import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departures, emailOutbox } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;
let guide: TestUser;
let otherGuide: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  user = await createUser(t.ctx);
  guide = await createUser(t.ctx, { role: 'GUIDE', name: 'Rafiq Guide' });
  otherGuide = await createUser(t.ctx, { role: 'GUIDE' });
});
afterAll(() => t?.close());

const DAY = 24 * 3600_000;
const MISSING_ID = '01a21902-3a43-70fa-9b6d-4aa9740e4795';
const inDays = (days: number) => new Date(Date.now() + days * DAY);

const patch = (id: string, payload: object, headers: Record<string, string> = admin.auth) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/departures/${id}`, headers, payload });
const myDepartures = (headers: Record<string, string>, query = '') =>
  t.app.inject({ method: 'GET', url: `/api/v1/guide/departures${query}`, headers });
const manifest = (id: string, headers: Record<string, string>, query = '') =>
  t.app.inject({ method: 'GET', url: `/api/v1/departures/${id}/manifest${query}`, headers });
const guideMails = (to: string) =>
  t.ctx.db
    .select()
    .from(emailOutbox)
    .where(and(eq(emailOutbox.to, to), eq(emailOutbox.template, 'guide-assigned')));

/** A traveller with a paid booking of `guests` on the tour's next departure. */
async function paidTraveller(
  tourId: string,
  options: { name?: string; phone?: string; guests?: number } = {},
) {
  const traveller = await createUser(t.ctx, { name: options.name, phone: options.phone });
  const booked = await bookThroughApi(t.app, traveller, tourId, options.guests ?? 1);
  expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
  return { traveller, bookingId: booked.bookingId };
}

describe('PATCH /departures/:id with a guide', () => {
  it('assigns a GUIDE and mails them the departure, its tour, dates and bookings', async () => {
    const tour = await createTour(t.ctx, { title: 'Srimangal Tea Trails' });
    await paidTraveller(tour.id, { guests: 3 });
    const before = (await guideMails(guide.email)).length;

    const res = await patch(tour.departureId, { guide: guide.id });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.guide).toBe(guide.id);
    const mails = await guideMails(guide.email);
    expect(mails).toHaveLength(before + 1);
    const mail = mails.at(-1)!;
    expect(mail.subject).toContain('Srimangal Tea Trails');
    expect(mail.text).toContain(tour.departureId);
    expect(mail.text).toContain(tour.startDate.toISOString());
    expect(mail.text).toContain(tour.endDate.toISOString());
    expect(mail.text).toContain('3 of 20 seat(s) booked, 3 guest(s) paid');
    expect(mail.html).toContain('Srimangal Tea Trails');
  });

  it('refuses a USER, an ADMIN and a missing user with 400 naming guide, and mails nobody', async () => {
    const tour = await createTour(t.ctx);
    for (const who of [user.id, admin.id, MISSING_ID]) {
      const res = await patch(tour.departureId, { guide: who });
      expect(res.statusCode).toBe(400);
      expect(res.json().errorSources[0].path).toBe('guide');
    }
    const [row] = await t.ctx.db.select().from(departures).where(eq(departures.id, tour.departureId));
    expect(row!.guideId).toBeNull();
    expect(await t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, user.email))).toHaveLength(0);
  });

  it('unassigns with null and mails only a guide who takes a departure over', async () => {
    const tour = await createTour(t.ctx);
    await patch(tour.departureId, { guide: guide.id });
    const guideBefore = (await guideMails(guide.email)).length;
    const otherBefore = (await guideMails(otherGuide.email)).length;

    // The same guide again, or another change, tells nobody.
    expect((await patch(tour.departureId, { guide: guide.id, capacity: 25 })).statusCode).toBe(200);
    expect(await guideMails(guide.email)).toHaveLength(guideBefore);

    const reassigned = await patch(tour.departureId, { guide: otherGuide.id });
    expect(reassigned.json().data.guide).toBe(otherGuide.id);
    expect(await guideMails(otherGuide.email)).toHaveLength(otherBefore + 1);
    expect(await guideMails(guide.email)).toHaveLength(guideBefore);

    const unassigned = await patch(tour.departureId, { guide: null });
    expect(unassigned.statusCode).toBe(200);
    expect(unassigned.json().data.guide).toBeNull();
    expect(await guideMails(otherGuide.email)).toHaveLength(otherBefore + 1);

    // Assigned again later: told again.
    await patch(tour.departureId, { guide: guide.id });
    expect(await guideMails(guide.email)).toHaveLength(guideBefore + 1);
  });

  it('mails the guide of a departure scheduled with one', async () => {
    const tour = await createTour(t.ctx, { title: 'Bandarban Hills' });
    const before = (await guideMails(otherGuide.email)).length;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/tour/${tour.id}/departures`,
      headers: admin.auth,
      payload: {
        startDate: inDays(50).toISOString(),
        endDate: inDays(52).toISOString(),
        guide: otherGuide.id,
      },
    });
    expect(res.statusCode).toBe(201);
    const mails = await guideMails(otherGuide.email);
    expect(mails).toHaveLength(before + 1);
    expect(mails.at(-1)!.text).toContain(res.json().data[0]._id);
    expect(mails.at(-1)!.subject).toContain('Bandarban Hills');
  });
});

describe('GET /guide/departures', () => {
  it("lists the caller's departures, upcoming soonest first, then past ones latest first, with counts", async () => {
    const leader = await createUser(t.ctx, { role: 'GUIDE' });
    const later = await createTour(t.ctx, { title: 'Later Trip', startDate: inDays(40) });
    const sooner = await createTour(t.ctx, { title: 'Sooner Trip', startDate: inDays(10) });
    const notMine = await createTour(t.ctx, { startDate: inDays(5) });
    for (const tour of [later, sooner]) await patch(tour.departureId, { guide: leader.id });
    await patch(notMine.departureId, { guide: otherGuide.id });
    await paidTraveller(sooner.id, { guests: 2 });
    await paidTraveller(sooner.id, { guests: 3 });
    await bookThroughApi(t.app, await createUser(t.ctx), sooner.id, 4); // held, not paid
    // Two departures that have already run (past ones cannot be scheduled through the API).
    const [lastMonth, lastWeek] = await t.ctx.db
      .insert(departures)
      .values([
        { tourId: later.id, startDate: inDays(-30), endDate: inDays(-28), capacity: 10, guideId: leader.id },
        { tourId: later.id, startDate: inDays(-7), endDate: inDays(-5), capacity: 10, guideId: leader.id },
      ])
      .returning();

    const res = await myDepartures(leader.auth);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.map((d: { _id: string }) => d._id)).toEqual([
      sooner.departureId,
      later.departureId,
      lastWeek!.id,
      lastMonth!.id,
    ]);
    expect(body.meta).toEqual({ page: 1, limit: 10, total: 4, totalPage: 1 });
    expect(body.data[0]).toEqual({
      _id: sooner.departureId,
      tour: { _id: sooner.id, title: 'Sooner Trip', slug: sooner.slug },
      startDate: sooner.startDate.toISOString(),
      endDate: sooner.endDate.toISOString(),
      status: 'SCHEDULED',
      capacity: 20,
      bookedSeats: 9,
      paidBookings: 2,
      paidGuests: 5,
      checkedInBookings: 0,
      checkedInGuests: 0,
    });

    const page2 = (await myDepartures(leader.auth, '?page=2&limit=3')).json();
    expect(page2.data.map((d: { _id: string }) => d._id)).toEqual([lastMonth!.id]);
    expect(page2.meta).toEqual({ page: 2, limit: 3, total: 4, totalPage: 2 });
  });

  it('answers an empty list to a guide without departures, 400 for a bad page and 403 to others', async () => {
    const idle = await createUser(t.ctx, { role: 'GUIDE' });
    expect((await myDepartures(idle.auth)).json()).toMatchObject({ data: [], meta: { total: 0 } });
    const bad = await myDepartures(idle.auth, '?page=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('page');
    expect((await myDepartures(admin.auth)).statusCode).toBe(403);
    expect((await myDepartures(user.auth)).statusCode).toBe(403);
    expect((await myDepartures({})).statusCode).toBe(401);
  });
});

describe('GET /departures/:id/manifest', () => {
  const awkward = {
    comma: 'Doe, John',
    quotes: 'Ann "Nan" Lee',
    newline: 'Line\nBreak',
    formula: '=HYPERLINK("http://evil.example","click")',
  };
  let tour: Awaited<ReturnType<typeof createTour>>;
  const bookingIds: Record<string, string> = {};

  beforeAll(async () => {
    tour = await createTour(t.ctx, { title: 'Sajek Valley' });
    await patch(tour.departureId, { guide: guide.id });
    for (const [key, name] of Object.entries(awkward)) {
      const phone = key === 'formula' ? '+8801712345678' : '01812345678';
      bookingIds[key] = (
        await paidTraveller(tour.id, { name, phone, guests: key === 'comma' ? 2 : 1 })
      ).bookingId;
    }
    await bookThroughApi(t.app, await createUser(t.ctx, { name: 'Not Paid Yet' }), tour.id);
  });

  it('gives admins and the assigned guide the paid bookings, by name, with check-in state', async () => {
    for (const who of [admin, guide]) {
      const res = await manifest(tour.departureId, who.auth);
      expect(res.statusCode).toBe(200);
      const { departure, bookings, totals } = res.json().data;
      expect(departure).toEqual({
        _id: tour.departureId,
        tour: { _id: tour.id, title: 'Sajek Valley', slug: tour.slug },
        startDate: tour.startDate.toISOString(),
        endDate: tour.endDate.toISOString(),
        status: 'SCHEDULED',
        guide: guide.id,
      });
      const names: string[] = bookings.map((b: { name: string }) => b.name);
      expect([...names].sort()).toEqual(Object.values(awkward).sort());
      // A roll call by name (where punctuation sorts depends on the database's collation, letters do not).
      expect(names.filter((n) => n !== awkward.formula)).toEqual([
        awkward.quotes,
        awkward.comma,
        awkward.newline,
      ]);
      expect(bookings.find((b: { _id: string }) => b._id === bookingIds.comma)).toEqual({
        _id: bookingIds.comma,
        name: awkward.comma,
        phone: '01812345678',
        email: expect.stringContaining('@example.com'),
        guests: 2,
        checkedInAt: null,
        checkedInBy: null,
      });
      expect(totals).toEqual({ bookings: 4, guests: 5, checkedInBookings: 0, checkedInGuests: 0 });
    }
  });

  it('answers CSV with a header row, quoting, and formulas neutralised, which a CSV parser reads back', async () => {
    const res = await manifest(tour.departureId, guide.auth, '?format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="manifest-${tour.departureId}.csv"`,
    );
    const rows: string[][] = parse(res.body, { bom: true });
    expect(rows[0]).toEqual([
      'Booking ID',
      'Traveller',
      'Phone',
      'Email',
      'Guests',
      'Checked in at',
      'Checked in by',
    ]);
    const json = (await manifest(tour.departureId, admin.auth)).json().data.bookings;
    expect(rows.slice(1)).toEqual(
      json.map((b: { _id: string; name: string; phone: string; email: string; guests: number }) => [
        b._id,
        b.name.startsWith('=') ? `'${b.name}` : b.name,
        b.phone.startsWith('+') ? `'${b.phone}` : b.phone,
        b.email,
        String(b.guests),
        '',
        '',
      ]),
    );
    const byId = Object.fromEntries(rows.slice(1).map((r) => [r[0], r]));
    expect(byId[bookingIds.comma!]![1]).toBe('Doe, John');
    expect(byId[bookingIds.quotes!]![1]).toBe('Ann "Nan" Lee');
    expect(byId[bookingIds.newline!]![1]).toBe('Line\nBreak');
    expect(byId[bookingIds.formula!]![1]).toBe(`'${awkward.formula}`);
    expect(byId[bookingIds.formula!]![2]).toBe("'+8801712345678");
  });

  it('answers 403 to a guide of another departure and to a user, 401 anonymous, 404 for a missing one', async () => {
    expect((await manifest(tour.departureId, otherGuide.auth)).statusCode).toBe(403);
    expect((await manifest(tour.departureId, otherGuide.auth, '?format=csv')).statusCode).toBe(403);
    expect((await manifest(tour.departureId, user.auth)).statusCode).toBe(403);
    expect((await manifest(tour.departureId, {})).statusCode).toBe(401);
    expect((await manifest(MISSING_ID, admin.auth)).statusCode).toBe(404);
    expect((await manifest(MISSING_ID, guide.auth)).statusCode).toBe(404);
    const badFormat = await manifest(tour.departureId, admin.auth, '?format=xlsx');
    expect(badFormat.statusCode).toBe(400);
    expect(badFormat.json().errorSources[0].path).toBe('format');
  });
});
