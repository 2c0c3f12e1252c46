import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, movableClock } from '../helpers/booking-fixtures.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway, renewSession } from '../helpers/populated-world.js';

/**
 * A review's edit window survives deleting and writing it again; admins list hidden reviews; a review of a
 * booking cancelled and refunded in full no longer counts.
 */

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const clock = movableClock();
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ clock, env: { MAX_ACTIVE_HOLDS_PER_USER: '100' } });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t?.close());

const post = (user: TestUser, tourId: string, payload: object) =>
  t.app.inject({ method: 'POST', url: `/api/v1/tour/${tourId}/reviews`, headers: user.auth, payload });
const list = (tourId: string, query = '', headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: `/api/v1/tour/${tourId}/reviews${query}`, headers });
const patch = (user: TestUser, id: string, payload: object) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/reviews/${id}`, headers: user.auth, payload });
const remove = (user: TestUser, id: string) =>
  t.app.inject({ method: 'DELETE', url: `/api/v1/reviews/${id}`, headers: user.auth });
const ratingOf = async (slug: string) =>
  (await t.app.inject({ method: 'GET', url: `/api/v1/tour/${slug}` })).json().data.rating;

/** A tour whose trip, paid by `count` travellers, has ended by the test clock; everyone signed in again. */
async function tripTaken(count: number) {
  const start = clock.now().getTime() + DAY;
  const tour = await createTour(t.ctx, { startDate: new Date(start), endDate: new Date(start + DAY) });
  const travellers: { user: TestUser; bookingId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const user = await createUser(t.ctx);
    const booked = await bookThroughApi(t.app, user, tour.id);
    expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    travellers.push({ user, bookingId: booked.bookingId });
  }
  clock.advance(2 * DAY + MINUTE);
  for (const { user } of travellers) await renewSession(t.ctx, user);
  await renewSession(t.ctx, admin);
  return { tour, travellers };
}

describe('the 30-day edit window', () => {
  it('is not restarted by deleting a review and writing it again', async () => {
    const { tour, travellers } = await tripTaken(1);
    const { user, bookingId } = travellers[0]!;
    const first = await post(user, tour.id, { rating: 2, booking: bookingId });
    expect(first.statusCode).toBe(201);
    const writtenAt = first.json().data.createdAt;

    clock.advance(20 * DAY);
    await renewSession(t.ctx, user);
    expect((await remove(user, first.json().data._id)).statusCode).toBe(200);
    const again = await post(user, tour.id, { rating: 3, booking: bookingId });
    expect(again.statusCode).toBe(201);
    // The same review, still dated from its first writing, and counted once.
    expect(again.json().data).toMatchObject({ _id: first.json().data._id, rating: 3, createdAt: writtenAt });
    expect(await ratingOf(tour.slug)).toEqual({ average: 3, count: 1 });

    clock.advance(10 * DAY + MINUTE);
    await renewSession(t.ctx, user);
    const late = await patch(user, again.json().data._id, { rating: 5 });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toContain(writtenAt);
    // Nor can deleting and writing it again change it now.
    expect((await remove(user, again.json().data._id)).statusCode).toBe(200);
    expect(await ratingOf(tour.slug)).toEqual({ average: null, count: 0 });
    const rewritten = await post(user, tour.id, { rating: 5, booking: bookingId });
    expect(rewritten.statusCode).toBe(409);
    expect(rewritten.json().message).toContain(writtenAt);
    expect(await ratingOf(tour.slug)).toEqual({ average: null, count: 0 });
  });

  it('a review not deleted is still one per booking (409)', async () => {
    const { tour, travellers } = await tripTaken(1);
    const { user, bookingId } = travellers[0]!;
    expect((await post(user, tour.id, { rating: 4, booking: bookingId })).statusCode).toBe(201);
    expect((await post(user, tour.id, { rating: 5, booking: bookingId })).statusCode).toBe(409);
  });
});

describe('the admins’ view of hidden reviews', () => {
  it('lists a tour’s hidden reviews with ?hidden=true, for admins only', async () => {
    const { tour, travellers } = await tripTaken(3);
    const ids: string[] = [];
    for (const [i, { user, bookingId }] of travellers.entries()) {
      ids.push((await post(user, tour.id, { rating: i + 3, booking: bookingId })).json().data._id);
    }
    expect((await patch(admin, ids[0]!, { hidden: true })).statusCode).toBe(200);
    expect((await patch(admin, ids[2]!, { hidden: true })).statusCode).toBe(200);
    // A deleted review is in no list.
    await patch(admin, ids[1]!, { hidden: true });
    expect((await remove(admin, ids[1]!)).statusCode).toBe(200);

    const hidden = await list(tour.id, '?hidden=true&sort=rating', admin.auth);
    expect(hidden.statusCode).toBe(200);
    expect(hidden.json().data.map((r: { _id: string; hidden: boolean }) => [r._id, r.hidden])).toEqual([
      [ids[0], true],
      [ids[2], true],
    ]);
    expect(hidden.json().meta).toMatchObject({ total: 2, count: 0, average: null });
    const visible = await list(tour.id, '?hidden=false', admin.auth);
    expect(visible.json().data).toEqual([]);
    expect((await list(tour.id)).json().data).toEqual([]);

    expect((await list(tour.id, '?hidden=true')).statusCode).toBe(401);
    expect((await list(tour.id, '?hidden=true', travellers[0]!.user.auth)).statusCode).toBe(403);
    const bad = await list(tour.id, '?hidden=maybe', admin.auth);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('hidden');
  });
});

describe('a review of a booking refunded in full', () => {
  it('stops counting when an admin cancels the booking and refunds it all; a partial refund leaves it', async () => {
    const { tour, travellers } = await tripTaken(2);
    const [full, partial] = travellers;
    const fullReview = (await post(full!.user, tour.id, { rating: 1, booking: full!.bookingId })).json().data;
    await post(partial!.user, tour.id, { rating: 5, booking: partial!.bookingId });
    expect(await ratingOf(tour.slug)).toEqual({ average: 3, count: 2 });
    const paid = (await bookingState(t.ctx, full!.bookingId)).payment.amountMinor / 100;

    const cancel = (bookingId: string, refundAmount: number) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/booking/${bookingId}/cancel`,
        headers: admin.auth,
        payload: { refundAmount, reason: 'the boat never left the jetty' },
      });
    expect((await cancel(partial!.bookingId, 1)).statusCode).toBe(200);
    expect(await ratingOf(tour.slug)).toEqual({ average: 3, count: 2 });
    expect((await cancel(full!.bookingId, paid)).statusCode).toBe(200);
    expect(await ratingOf(tour.slug)).toEqual({ average: 5, count: 1 });
    expect((await list(tour.id)).json().data.map((r: { _id: string }) => r._id)).not.toContain(
      fullReview._id,
    );
    const hidden = (await list(tour.id, '?hidden=true', admin.auth)).json().data;
    expect(hidden.map((r: { _id: string }) => r._id)).toEqual([fullReview._id]);
  });
});
