import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, departures, users } from '../../src/db/schema/index.js';
import { buildServices } from '../../src/services.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour, movableClock } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway, renewSession } from '../helpers/populated-world.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

/**
 * Seats that come free while others wait go to them, in the transaction that frees them; an account cannot
 * renew its hold by letting go and booking again; blocked and deleted accounts get no offers; an account
 * waits for no more than it may hold.
 */

const MINUTE = 60_000;
const COOLDOWN_MINUTES = 10;
const clock = movableClock();
let t: TestApp;
let admin: TestUser;
let expireHolds: (now: Date) => Promise<number>;

beforeAll(async () => {
  t = await buildTestApp({
    clock,
    env: {
      MAX_ACTIVE_HOLDS_PER_USER: '2',
      MAX_HELD_SEATS_PER_USER: '5',
      REHOLD_COOLDOWN_MINUTES: String(COOLDOWN_MINUTES),
    },
  });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  // The hold sweeper as an instance runs it (tests build the app without background jobs).
  ({ expireHolds } = buildServices(t.ctx, t.app.log));
});
afterAll(() => t?.close());

const join = (departureId: string, user: TestUser, guestCount: number) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/departures/${departureId}/waitlist`,
    headers: user.auth,
    payload: { guestCount },
  });
const mine = async (user: TestUser) =>
  (await t.app.inject({ method: 'GET', url: '/api/v1/waitlist/mine', headers: user.auth })).json().data;
const book = (user: TestUser, tourId: string, guestCount: number) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tourId, guestCount },
  });
const cancel = (bookingId: string, user: TestUser) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/booking/${bookingId}/cancel`,
    headers: user.auth,
    payload: {},
  });
const patchUser = (userId: string, payload: object) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/user/${userId}`, headers: admin.auth, payload });

async function joined(departureId: string, guestCount: number) {
  const user = await createUser(t.ctx);
  const res = await join(departureId, user, guestCount);
  expect(res.statusCode, res.body).toBe(201);
  return { user, entry: res.json().data };
}

/** A tour whose one departure of `capacity` seats is all held, unpaid, by `holder`. */
async function fullyHeld(capacity: number) {
  const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: capacity });
  const holder = await createUser(t.ctx);
  const held = await bookThroughApi(t.app, holder, tour.id, capacity);
  return { tour, holder, held };
}

async function bookingRow(bookingId: string) {
  const [row] = await t.ctx.db.select().from(bookings).where(eq(bookings.id, bookingId));
  return row!;
}

async function seatsOf(departureId: string) {
  const [row] = await t.ctx.db.select().from(departures).where(eq(departures.id, departureId));
  return row!.seatsBooked;
}

/** Presses a button (Fail or Cancel) on the built-in local gateway's page, as the payer's browser would. */
async function pressOnGatewayPage(paymentUrl: string, button: 'Fail' | 'Cancel') {
  const { pathname, search } = new URL(paymentUrl);
  const page = await t.app.inject({ method: 'GET', url: `${pathname}${search}` });
  const form = [...page.body.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)].find((m) =>
    m[2]!.includes(`>${button}</button>`),
  );
  if (!form) throw new Error(`no ${button} button on the local gateway page`);
  const fields = [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)];
  const res = await t.app.inject({
    method: 'POST',
    url: form[1]!.replace(/&amp;/g, '&'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields.map((m): [string, string] => [m[1]!, m[2]!])).toString(),
  });
  expect(res.statusCode).toBe(302);
}

/** Ends a hold now, as if it had been made BOOKING_HOLD_MINUTES ago. */
const runOut = (bookingId: string) =>
  t.ctx.db
    .update(bookings)
    .set({ holdExpiresAt: new Date(clock.now().getTime() - 1000) })
    .where(eq(bookings.id, bookingId));

describe('freed seats are kept for the waitlist', () => {
  it('a cancellation hands its seats to the offer of the first that fits, in the same request: nobody else can take them', async () => {
    const { tour, holder, held } = await fullyHeld(3);
    const first = await joined(tour.departureId, 2);
    const second = await joined(tour.departureId, 1);

    expect((await cancel(held.bookingId, holder)).statusCode).toBe(200);
    // No offer job has run: the offers were made by the cancellation itself.
    const [a] = await mine(first.user);
    const [b] = await mine(second.user);
    expect(a).toMatchObject({ status: 'OFFERED' });
    expect(b).toMatchObject({ status: 'OFFERED' });
    expect(await bookingRow(a.booking)).toMatchObject({ status: 'PENDING', guestCount: 2, seatsHeld: true });
    expect(await seatsOf(tour.departureId)).toBe(3);

    const outsider = await book(await createUser(t.ctx), tour.id, 1);
    expect(outsider.statusCode).toBe(409);
    expect(outsider.json().code).toBe('SOLD_OUT');
    await expectConsistentBookings(t.ctx.db);
  });

  it('an expired hold hands its seats to the offer in the sweeper’s transaction', async () => {
    const { tour, held } = await fullyHeld(2);
    const waiting = await joined(tour.departureId, 2);
    await runOut(held.bookingId);
    expect(await expireHolds(clock.now())).toBe(1);

    expect(await bookingRow(held.bookingId)).toMatchObject({ status: 'FAILED', seatsHeld: false });
    const [entry] = await mine(waiting.user);
    expect(entry.status).toBe('OFFERED');
    expect(await bookingRow(entry.booking)).toMatchObject({ userId: waiting.user.id, status: 'PENDING' });
    expect((await book(await createUser(t.ctx), tour.id, 1)).json().code).toBe('SOLD_OUT');
    await expectConsistentBookings(t.ctx.db);
  });

  it('seats that fit no one waiting are free for anyone at once', async () => {
    const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 3 });
    await bookThroughApi(t.app, await createUser(t.ctx), tour.id, 2);
    const single = await createUser(t.ctx);
    const one = await bookThroughApi(t.app, single, tour.id, 1);
    const pair = await joined(tour.departureId, 2);
    expect((await cancel(one.bookingId, single)).statusCode).toBe(200);
    expect((await mine(pair.user))[0].status).toBe('WAITING');
    expect((await book(await createUser(t.ctx), tour.id, 1)).statusCode).toBe(201);
  });
});

describe('letting go of a hold and taking it again', () => {
  it('is not triggered by a payment cancelled or declined on the gateway’s page: the hold stays, nothing is offered', async () => {
    const { tour, holder, held } = await fullyHeld(1);
    const waiting = await joined(tour.departureId, 1);
    await pressOnGatewayPage(held.paymentUrl, 'Cancel');
    expect(await bookingRow(held.bookingId)).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect((await mine(waiting.user))[0].status).toBe('WAITING');
    expect(await seatsOf(tour.departureId)).toBe(1);
    // Still their hold: paying again opens a new gateway session instead of a cool-down.
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/init-payment/${held.bookingId}`,
      headers: holder.auth,
    });
    expect(again.statusCode, again.body).toBe(201);
  });

  it('is refused for REHOLD_COOLDOWN_MINUTES after cancelling (429 with Retry-After), on that departure only', async () => {
    const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 10 });
    const elsewhere = await createTour(t.ctx, { costFrom: 1000, maxGuest: 10 });
    const user = await createUser(t.ctx);
    const first = await bookThroughApi(t.app, user, tour.id, 2);
    expect((await cancel(first.bookingId, user)).statusCode).toBe(200);

    const again = await book(user, tour.id, 2);
    expect(again.statusCode).toBe(429);
    expect(again.json().code).toBe('RATE_LIMITED');
    expect(again.json().message).toMatch(/waitlist/);
    const retryAfter = Number(again.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan((COOLDOWN_MINUTES - 1) * 60);
    expect(retryAfter).toBeLessThanOrEqual(COOLDOWN_MINUTES * 60);
    // Another account, and another departure for this one, are not held back.
    expect((await book(await createUser(t.ctx), tour.id, 2)).statusCode).toBe(201);
    expect((await book(user, elsewhere.id, 1)).statusCode).toBe(201);

    clock.advance(COOLDOWN_MINUTES * MINUTE + MINUTE);
    // Access tokens issued before do not live much longer.
    admin = await renewSession(t.ctx, admin);
    expect((await book(await renewSession(t.ctx, user), tour.id, 2)).statusCode).toBe(201);
  });

  it('is refused after letting a hold expire, but not after a paid booking is cancelled', async () => {
    const tour = await createTour(t.ctx, { costFrom: 1000, maxGuest: 10 });
    const user = await createUser(t.ctx);
    const held = await bookThroughApi(t.app, user, tour.id, 1);
    await runOut(held.bookingId);
    await expireHolds(clock.now());
    expect((await bookingRow(held.bookingId)).status).toBe('FAILED');
    expect((await book(user, tour.id, 1)).statusCode).toBe(429);

    const buyer = await createUser(t.ctx);
    const paid = await bookThroughApi(t.app, buyer, tour.id, 1);
    expect(await payOnLocalGateway(t.app, paid.paymentUrl)).toBe(302);
    expect((await cancel(paid.bookingId, buyer)).statusCode).toBe(200);
    expect((await book(buyer, tour.id, 1)).statusCode).toBe(201);
  });
});

describe('blocked and deleted accounts', () => {
  it('get no offer: the offer passes them by to the next in line', async () => {
    const { tour, holder, held } = await fullyHeld(1);
    const blocked = await joined(tour.departureId, 1);
    const deleted = await joined(tour.departureId, 1);
    const next = await joined(tour.departureId, 1);
    // Accounts blocked and deleted before their entries were ended (by an older version, or by hand).
    await t.ctx.db.update(users).set({ isActive: 'BLOCKED' }).where(eq(users.id, blocked.user.id));
    await t.ctx.db.update(users).set({ isDeleted: true }).where(eq(users.id, deleted.user.id));

    expect((await cancel(held.bookingId, holder)).statusCode).toBe(200);
    const entries = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/departures/${tour.departureId}/waitlist`,
        headers: admin.auth,
      })
    ).json().data;
    expect(entries.map((e: { user: string; status: string }) => [e.user, e.status])).toEqual([
      [blocked.user.id, 'EXPIRED'],
      [deleted.user.id, 'EXPIRED'],
      [next.user.id, 'OFFERED'],
    ]);
  });

  it.each([
    ['blocking', { isActive: 'BLOCKED' }],
    ['deleting', { isDeleted: true }],
  ])(
    '%s an account ends its waiting entries and open offers, and the seats go to the next in line',
    async (_, change) => {
      const { tour, holder, held } = await fullyHeld(2);
      const offered = await joined(tour.departureId, 2);
      const next = await joined(tour.departureId, 2);
      expect((await cancel(held.bookingId, holder)).statusCode).toBe(200);
      const [offer] = await mine(offered.user);
      expect(offer.status).toBe('OFFERED');
      // The same account also waits on another departure.
      const other = await fullyHeld(1);
      expect((await join(other.tour.departureId, offered.user, 1)).statusCode).toBe(201);

      expect((await patchUser(offered.user.id, change)).statusCode).toBe(201);
      expect(await bookingRow(offer.booking)).toMatchObject({ status: 'CANCEL', seatsHeld: false });
      const ended = await t.ctx.db.select().from(bookings).where(eq(bookings.userId, next.user.id));
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ status: 'PENDING', guestCount: 2, departureId: tour.departureId });
      expect((await mine(next.user))[0].status).toBe('OFFERED');
      const admins = await t.app.inject({
        method: 'GET',
        url: `/api/v1/departures/${other.tour.departureId}/waitlist`,
        headers: admin.auth,
      });
      expect(admins.json().data.map((e: { status: string }) => e.status)).toEqual(['EXPIRED']);
      expect(await seatsOf(tour.departureId)).toBe(2);
      await expectConsistentBookings(t.ctx.db);
    },
  );
});

describe('an account waits for no more than it may hold', () => {
  it('asks for at most MAX_HELD_SEATS_PER_USER seats (400 naming guestCount)', async () => {
    const { tour } = await fullyHeld(5);
    const res = await join(tour.departureId, await createUser(t.ctx), 6);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toEqual(['guestCount']);
    expect(res.json().message + JSON.stringify(res.json().errorSources)).toMatch(/at most 5/);
  });

  it('waits on at most MAX_ACTIVE_HOLDS_PER_USER lists and MAX_HELD_SEATS_PER_USER seats in all (409)', async () => {
    const user = await createUser(t.ctx);
    const [a, b, c] = [await fullyHeld(5), await fullyHeld(5), await fullyHeld(5)];
    expect((await join(a.tour.departureId, user, 3)).statusCode).toBe(201);
    const tooManySeats = await join(b.tour.departureId, user, 3);
    expect(tooManySeats.statusCode).toBe(409);
    expect(tooManySeats.json().message).toMatch(/5/);
    expect((await join(b.tour.departureId, user, 2)).statusCode).toBe(201);
    const tooManyLists = await join(c.tour.departureId, user, 1);
    expect(tooManyLists.statusCode).toBe(409);
    expect(tooManyLists.json().message).toMatch(/2 waitlists/);
    // Leaving one makes room again.
    const [latest] = await mine(user);
    await t.app.inject({ method: 'DELETE', url: `/api/v1/waitlist/${latest._id}`, headers: user.auth });
    expect((await join(c.tour.departureId, user, 1)).statusCode).toBe(201);
  });
});
