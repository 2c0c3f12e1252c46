import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, departures, emailOutbox } from '../../src/db/schema/index.js';
import { expireStaleHolds } from '../../src/modules/bookings/hold-sweeper.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, movableClock } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway, renewSession } from '../helpers/populated-world.js';
import { jobWorker } from '../helpers/refund-worker.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

const HOUR = 3600_000;
const MISSING_ID = '01a21902-3a43-70fa-9b6d-4aa9740e4795';
const clock = movableClock();
let t: TestApp;
let admin: TestUser;
let runJobs: ReturnType<typeof jobWorker>;
/** Jobs queued by the database's clock (seat releases) are due a moment after the test clock's now. */
const due = () => new Date(clock.now().getTime() + 60_000);

beforeAll(async () => {
  // One unpaid hold per account: offers must not be refused by it.
  t = await buildTestApp({ clock, env: { MAX_ACTIVE_HOLDS_PER_USER: '1' } });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  runJobs = jobWorker(t.app);
});
afterAll(() => t?.close());

const join = (departureId: string, user: TestUser, guestCount: number) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/departures/${departureId}/waitlist`,
    headers: user.auth,
    payload: { guestCount },
  });
const leave = (entryId: string, user: TestUser) =>
  t.app.inject({ method: 'DELETE', url: `/api/v1/waitlist/${entryId}`, headers: user.auth });
const mine = (user: TestUser) =>
  t.app.inject({ method: 'GET', url: '/api/v1/waitlist/mine', headers: user.auth });
const adminList = (departureId: string, user: TestUser = admin) =>
  t.app.inject({ method: 'GET', url: `/api/v1/departures/${departureId}/waitlist`, headers: user.auth });

/** A departure of `capacity` seats, all taken by one pending booking; returns the tour and that booking. */
async function soldOut(capacity: number) {
  const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: capacity });
  const holder = await createUser(t.ctx);
  const booked = await bookThroughApi(t.app, holder, tour.id, capacity);
  return { tour, holder, booked };
}

async function joined(departureId: string, guestCount: number) {
  const user = await createUser(t.ctx);
  const res = await join(departureId, user, guestCount);
  expect(res.statusCode, res.body).toBe(201);
  return { user, entry: res.json().data };
}

const entries = async (departureId: string) => (await adminList(departureId)).json().data;

const cancelBooking = (bookingId: string, user: TestUser) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/booking/${bookingId}/cancel`,
    headers: user.auth,
    payload: {},
  });

const mailsTo = (email: string) => t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email));

async function seatsOf(departureId: string) {
  const [row] = await t.ctx.db.select().from(departures).where(eq(departures.id, departureId));
  return row!.seatsBooked;
}

describe('joining, listing and leaving', () => {
  it('gives each traveller a place in join order; leaving moves those behind up', async () => {
    const { tour } = await soldOut(4);
    const a = await joined(tour.departureId, 2);
    const b = await joined(tour.departureId, 1);
    const c = await joined(tour.departureId, 3);
    expect(Object.keys(a.entry).sort()).toEqual(
      [
        '_id',
        'departure',
        'user',
        'guestCount',
        'status',
        'position',
        'booking',
        'offeredAt',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(a.entry).toMatchObject({
      departure: tour.departureId,
      user: a.user.id,
      guestCount: 2,
      status: 'WAITING',
      position: 1,
      booking: null,
    });
    expect([b.entry.position, c.entry.position]).toEqual([2, 3]);

    const list = await adminList(tour.departureId);
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((e: { _id: string }) => e._id)).toEqual([
      a.entry._id,
      b.entry._id,
      c.entry._id,
    ]);
    expect(list.json().meta).toMatchObject({ total: 3, page: 1 });

    const left = await leave(a.entry._id, a.user);
    expect(left.statusCode).toBe(200);
    expect(left.json().data).toMatchObject({ status: 'LEFT', position: null });
    expect((await leave(a.entry._id, a.user)).json().data.status).toBe('LEFT');
    const bMine = (await mine(b.user)).json();
    expect(bMine.data).toMatchObject([{ _id: b.entry._id, position: 1, status: 'WAITING' }]);
    expect(bMine.meta.total).toBe(1);
    expect((await entries(tour.departureId)).map((e: { position: number | null }) => e.position)).toEqual([
      null,
      1,
      2,
    ]);
    // Leaving is not final: the traveller may join again, at the back.
    const again = await join(tour.departureId, a.user, 2);
    expect(again.statusCode).toBe(201);
    expect(again.json().data.position).toBe(3);
  });

  it('answers 409 with seats available now, to a second join, and on a closed or cancelled departure', async () => {
    const open = await createTour(t.ctx, { maxGuest: 10 });
    const user = await createUser(t.ctx);
    const withSeats = await join(open.departureId, user, 2);
    expect(withSeats.statusCode).toBe(409);
    expect(withSeats.json().message).toMatch(/book instead/);

    const { tour } = await soldOut(2);
    expect((await join(tour.departureId, user, 1)).statusCode).toBe(201);
    const twice = await join(tour.departureId, user, 2);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toMatch(/already on the waitlist/);

    const closed = await soldOut(2);
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/departures/${closed.tour.departureId}`,
      headers: admin.auth,
      payload: { status: 'CLOSED' },
    });
    expect((await join(closed.tour.departureId, user, 1)).statusCode).toBe(409);
    const cancelled = await soldOut(2);
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/departures/${cancelled.tour.departureId}/cancel`,
      headers: admin.auth,
      payload: { reason: 'Storm' },
    });
    expect((await join(cancelled.tour.departureId, user, 1)).statusCode).toBe(409);
    // More guests than the departure has seats at all can never be offered.
    expect((await join(tour.departureId, await createUser(t.ctx), 3)).statusCode).toBe(409);
  });

  it('answers 400 naming the field, 404 for an unknown departure or someone else’s entry, 403 to a customer listing', async () => {
    const { tour } = await soldOut(2);
    const noPhone = await createUser(t.ctx, { phone: null });
    const res = await join(tour.departureId, noPhone, 1);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toEqual(['phone']);
    for (const guestCount of [0, 1.5, 1001]) {
      const bad = await join(tour.departureId, admin, guestCount);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errorSources[0].path).toBe('guestCount');
    }
    expect((await join('not-an-id', admin, 1)).json().errorSources[0].path).toBe('id');
    expect((await join(MISSING_ID, admin, 1)).statusCode).toBe(404);

    const { user, entry } = await joined(tour.departureId, 1);
    const stranger = await createUser(t.ctx);
    expect((await leave(entry._id, stranger)).statusCode).toBe(404);
    expect((await adminList(tour.departureId, user)).statusCode).toBe(403);
    expect((await adminList(MISSING_ID)).statusCode).toBe(404);
    const byAdmin = await leave(entry._id, admin);
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json().data.status).toBe('LEFT');
  });
});

describe('offers', () => {
  it('freed seats go to the first entry that fits, skipping one too large; an unpaid offer expires and moves on; a paid one is BOOKED', async () => {
    const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 4 });
    const paidOwner = await createUser(t.ctx);
    const paid = await bookThroughApi(t.app, paidOwner, tour.id, 3);
    expect(await payOnLocalGateway(t.app, paid.paymentUrl)).toBe(302);
    const pendingOwner = await createUser(t.ctx);
    const pending = await bookThroughApi(t.app, pendingOwner, tour.id, 1);

    await joined(tour.departureId, 3);
    const first = await joined(tour.departureId, 1);
    const second = await joined(tour.departureId, 1);
    // The first small traveller already holds seats elsewhere, at the per-account limit: offers pass it.
    const elsewhere = await createTour(t.ctx, { maxGuest: 5 });
    await bookThroughApi(t.app, first.user, elsewhere.id, 1);

    expect((await cancelBooking(pending.bookingId, pendingOwner)).statusCode).toBe(200);
    await runJobs(due());
    let list = await entries(tour.departureId);
    expect(list.map((e: { status: string }) => e.status)).toEqual(['WAITING', 'OFFERED', 'WAITING']);
    expect(list.map((e: { position: number | null }) => e.position)).toEqual([1, null, 2]);
    const offerId = list[1].booking;
    const [offer] = await t.ctx.db.select().from(bookings).where(eq(bookings.id, offerId));
    expect(offer).toMatchObject({
      userId: first.user.id,
      status: 'PENDING',
      guestCount: 1,
      departureId: tour.departureId,
      unitPriceMinor: 100_000,
    });
    expect(offer!.holdExpiresAt.getTime() - clock.now().getTime()).toBe(12 * HOUR);
    expect(await seatsOf(tour.departureId)).toBe(4);

    // The offer mail, with the payment link, once.
    await runJobs(due());
    await runJobs(due());
    const offerMails = (await mailsTo(first.user.email)).filter((m) => m.template === 'waitlist-offer');
    expect(offerMails).toHaveLength(1);
    expect(offerMails[0]!.text).toMatch(/BDT 1,000\.00/);
    expect(offerMails[0]!.text).toMatch(/Pay now: http/);
    const mine1 = (await mine(first.user)).json().data;
    expect(mine1[0]).toMatchObject({ status: 'OFFERED', booking: offerId });

    // Not paid in time: the hold sweeper ends it, its seat goes to the next that fits.
    clock.advance(12 * HOUR + 60_000);
    // Access tokens issued before do not live that long.
    admin = await renewSession(t.ctx, admin);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());
    await runJobs(due());
    list = await entries(tour.departureId);
    expect(list.map((e: { status: string }) => e.status)).toEqual(['WAITING', 'EXPIRED', 'OFFERED']);
    expect(await seatsOf(tour.departureId)).toBe(4);

    // Paid: BOOKED.
    await runJobs(due());
    const [secondMail] = (await mailsTo(second.user.email)).filter((m) => m.template === 'waitlist-offer');
    const link = /Pay now: (\S+)/.exec(secondMail!.text)![1]!;
    expect(await payOnLocalGateway(t.app, link)).toBe(302);
    list = await entries(tour.departureId);
    expect(list.map((e: { status: string }) => e.status)).toEqual(['WAITING', 'EXPIRED', 'BOOKED']);
    const [booked] = await t.ctx.db.select().from(bookings).where(eq(bookings.id, list[2].booking));
    expect(booked!.status).toBe('COMPLETE');
    await expectConsistentBookings(t.ctx.db);
  });

  it('a larger capacity offers the new seats; leaving with an offer cancels it and passes the seats on', async () => {
    const { tour } = await soldOut(2);
    const a = await joined(tour.departureId, 2);
    const b = await joined(tour.departureId, 2);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/departures/${tour.departureId}`,
      headers: admin.auth,
      payload: { capacity: 4 },
    });
    expect(patched.statusCode).toBe(200);
    await runJobs(due());
    const offered = (await mine(a.user)).json().data[0];
    expect(offered.status).toBe('OFFERED');

    const left = await leave(a.entry._id, a.user);
    expect(left.json().data.status).toBe('LEFT');
    const [cancelled] = await t.ctx.db.select().from(bookings).where(eq(bookings.id, offered.booking));
    expect(cancelled!.status).toBe('CANCEL');
    await runJobs(due());
    expect((await mine(b.user)).json().data[0].status).toBe('OFFERED');
    expect(await seatsOf(tour.departureId)).toBe(4);
  });

  it('a cancelled departure closes its waitlist (EXPIRED), mails each waiting traveller, and makes no offers', async () => {
    const { tour, holder, booked } = await soldOut(2);
    const waiting = await joined(tour.departureId, 1);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/departures/${tour.departureId}/cancel`,
      headers: admin.auth,
      payload: { reason: 'Bridge closed' },
    });
    expect(res.statusCode).toBe(200);
    await runJobs(due());
    expect((await mine(waiting.user)).json().data[0]).toMatchObject({ status: 'EXPIRED', booking: null });
    const mails = (await mailsTo(waiting.user.email)).filter((m) => m.template === 'waitlist-closed');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('Bridge closed');
    const [holderBooking] = await t.ctx.db.select().from(bookings).where(eq(bookings.id, booked.bookingId));
    expect(holderBooking!.status).toBe('CANCEL');
    expect(holder.id).toBe(holderBooking!.userId);
  });
});
