import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { movableClock } from '../helpers/booking-fixtures.js';
import { createTour, type TestTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway, renewSession } from '../helpers/populated-world.js';

const HOUR = 3600_000;
const MISSING_ID = '01a21902-3a43-70fa-9b6d-4aa9740e4795';

const clock = movableClock();
let t: TestApp;
let admin: TestUser;
let guide: TestUser;
let otherGuide: TestUser;
let owner: TestUser;
let tour: TestTour;
let paid: string[];
let pending: string;

/** Moves the app's clock to `at`, and gives everyone a session valid then. */
async function setClock(at: Date) {
  clock.advance(at.getTime() - clock.now().getTime());
  for (const user of [admin, guide, otherGuide, owner]) await renewSession(t.ctx, user);
}

const checkIn = (bookingId: string, headers: Record<string, string>) =>
  t.app.inject({ method: 'POST', url: `/api/v1/booking/${bookingId}/check-in`, headers });

beforeAll(async () => {
  t = await buildTestApp({ clock });
  admin = await createUser(t.ctx, { role: 'ADMIN', name: 'Office Admin' });
  guide = await createUser(t.ctx, { role: 'GUIDE', name: 'Rafiq Guide' });
  otherGuide = await createUser(t.ctx, { role: 'GUIDE' });
  owner = await createUser(t.ctx);
  tour = await createTour(t.ctx, { maxGuest: 50 });
  await t.app.inject({
    method: 'PATCH',
    url: `/api/v1/departures/${tour.departureId}`,
    headers: admin.auth,
    payload: { guide: guide.id },
  });
  paid = [];
  for (let i = 0; i < 4; i++) {
    const traveller = await createUser(t.ctx, { name: `Traveller ${i}` });
    const booked = await bookThroughApi(t.app, traveller, tour.id, 1 + i);
    expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    paid.push(booked.bookingId);
  }
  pending = (await bookThroughApi(t.app, owner, tour.id)).bookingId;
});
afterAll(() => t?.close());

describe('POST /booking/:bookingId/check-in', () => {
  it('opens exactly 24 hours before the start, saying when it is open', async () => {
    const opens = new Date(tour.startDate.getTime() - 24 * HOUR);
    await setClock(new Date(opens.getTime() - 1000));
    const early = await checkIn(paid[0]!, guide.auth);
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toContain('24 hours before the departure starts until it ends');
    expect(early.json().message).toContain(opens.toISOString());
    expect(early.json().message).toContain(tour.endDate.toISOString());

    await setClock(opens);
    const res = await checkIn(paid[0]!, guide.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().message).toBe('Checked in');
    expect(res.json().data).toMatchObject({
      _id: paid[0],
      departure: tour.departureId,
      name: 'Traveller 0',
      guests: 1,
      checkedInAt: opens.toISOString(),
      checkedInBy: { _id: guide.id, name: 'Rafiq Guide' },
    });
  });

  it('is idempotent: a second check-in answers the first one and changes nothing', async () => {
    await setClock(new Date(tour.startDate.getTime() + HOUR));
    const again = await checkIn(paid[0]!, admin.auth);
    expect(again.statusCode).toBe(200);
    expect(again.json().message).toBe('Already checked in');
    expect(again.json().data.checkedInAt).toBe(new Date(tour.startDate.getTime() - 24 * HOUR).toISOString());
    expect(again.json().data.checkedInBy._id).toBe(guide.id);
  });

  it('checks in once when two requests race', async () => {
    const [a, b] = await Promise.all([checkIn(paid[1]!, guide.auth), checkIn(paid[1]!, admin.auth)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect([a.json().message, b.json().message].sort()).toEqual(['Already checked in', 'Checked in']);
    expect(a.json().data.checkedInAt).toBe(b.json().data.checkedInAt);
    expect(a.json().data.checkedInBy).toEqual(b.json().data.checkedInBy);
  });

  it('is open at the end and closed after it', async () => {
    await setClock(tour.endDate);
    const atEnd = await checkIn(paid[2]!, admin.auth);
    expect(atEnd.statusCode).toBe(200);
    expect(atEnd.json().data.checkedInBy).toEqual({ _id: admin.id, name: 'Office Admin' });

    clock.advance(1);
    const late = await checkIn(paid[3]!, guide.auth);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('CONFLICT');
  });

  it('shows check-ins in the manifest and the guide’s list', async () => {
    const manifest = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/departures/${tour.departureId}/manifest`,
        headers: guide.auth,
      })
    ).json().data;
    const byId = Object.fromEntries(manifest.bookings.map((b: { _id: string }) => [b._id, b]));
    expect(byId[paid[0]!].checkedInAt).toBe(new Date(tour.startDate.getTime() - 24 * HOUR).toISOString());
    expect(byId[paid[2]!].checkedInAt).toBe(tour.endDate.toISOString());
    expect(byId[paid[3]!].checkedInAt).toBeNull();
    expect(manifest.totals).toEqual({ bookings: 4, guests: 10, checkedInBookings: 3, checkedInGuests: 6 });

    const csv = await t.app.inject({
      method: 'GET',
      url: `/api/v1/departures/${tour.departureId}/manifest?format=csv`,
      headers: admin.auth,
    });
    expect(csv.body).toContain(`${paid[2]},Traveller 2,`);
    expect(csv.body).toContain(`${tour.endDate.toISOString()},Office Admin\r\n`);

    const mine = (await t.app.inject({ method: 'GET', url: '/api/v1/guide/departures', headers: guide.auth }))
      .json()
      .data.find((d: { _id: string }) => d._id === tour.departureId);
    expect(mine).toMatchObject({ paidBookings: 4, paidGuests: 10, checkedInBookings: 3, checkedInGuests: 6 });
  });

  it('refuses an unpaid booking (409), even inside the window', async () => {
    await setClock(tour.startDate);
    const res = await checkIn(pending, admin.auth);
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('Only a paid booking');
  });

  it('answers 403 to a guide of another departure and to a user, 404 for a missing booking, 401 anonymous', async () => {
    await setClock(tour.startDate);
    const other = await checkIn(paid[3]!, otherGuide.auth);
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('FORBIDDEN');
    // Not even the booking's owner checks themselves in.
    expect((await checkIn(pending, owner.auth)).statusCode).toBe(403);
    expect((await checkIn(MISSING_ID, admin.auth)).statusCode).toBe(404);
    expect((await checkIn(MISSING_ID, guide.auth)).statusCode).toBe(404);
    expect((await checkIn(paid[3]!, {})).statusCode).toBe(401);
    const bad = await checkIn('not-an-id', admin.auth);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('bookingId');
    // Nothing was checked in by those.
    expect((await checkIn(paid[3]!, guide.auth)).json().message).toBe('Checked in');
  });
});
