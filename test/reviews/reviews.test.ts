import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviews, tours } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, movableClock } from '../helpers/booking-fixtures.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway, renewSession } from '../helpers/populated-world.js';

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const clock = movableClock();
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ clock, env: { MAX_ACTIVE_HOLDS_PER_USER: '100' } });
  admin = await createUser(t.ctx, { role: 'ADMIN', name: 'Admin' });
});
afterAll(() => t?.close());

/** Access tokens live 15 minutes of the test clock: after moving it, callers sign in again. */
const signedIn = (user: TestUser) => renewSession(t.ctx, user);

/** A tour starting a day from the test clock's now and ending two days later. */
const upcomingTour = (maxGuest = 20) => {
  const start = clock.now().getTime() + DAY;
  return createTour(t.ctx, {
    startDate: new Date(start),
    endDate: new Date(start + 2 * DAY),
    maxGuest,
  });
};
/** Moves the test clock past the end of every tour `upcomingTour` made before. */
const tripsEnd = () => clock.advance(3 * DAY + MINUTE);

async function paidBooking(user: TestUser, tourId: string): Promise<string> {
  const booked = await bookThroughApi(t.app, user, tourId);
  expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
  expect((await bookingState(t.ctx, booked.bookingId)).booking.status).toBe('COMPLETE');
  return booked.bookingId;
}

const postReview = (user: TestUser | undefined, tourId: string, payload: object) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/tour/${tourId}/reviews`,
    headers: user?.auth ?? {},
    payload,
  });
const listReviews = (tourId: string, query = '') =>
  t.app.inject({ method: 'GET', url: `/api/v1/tour/${tourId}/reviews${query}` });
const patchReview = (user: TestUser | undefined, id: string, payload: object) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/reviews/${id}`, headers: user?.auth ?? {}, payload });
const deleteReview = (user: TestUser | undefined, id: string) =>
  t.app.inject({ method: 'DELETE', url: `/api/v1/reviews/${id}`, headers: user?.auth ?? {} });
const tourBySlug = async (slug: string) =>
  (await t.app.inject({ method: 'GET', url: `/api/v1/tour/${slug}` })).json().data;
const paths = (res: { json(): { errorSources: { path: string }[] } }) =>
  res.json().errorSources.map((s) => s.path);

/** Travellers who each paid for `tour` and whose trip has ended, signed in at the new now. */
async function travellersOf(tourId: string, count: number): Promise<{ user: TestUser; bookingId: string }[]> {
  const travellers = [];
  for (let i = 0; i < count; i++) {
    const user = await createUser(t.ctx, { name: `Traveller ${i + 1}` });
    travellers.push({ user, bookingId: await paidBooking(user, tourId) });
  }
  tripsEnd();
  for (const { user } of travellers) await signedIn(user);
  return travellers;
}

/** The rating the tour's visible (neither hidden nor deleted) review rows give, computed from the rows themselves. */
async function ratingFromRows(tourId: string) {
  const rows = await t.ctx.db.select().from(reviews).where(eq(reviews.tourId, tourId));
  const visible = rows.filter((r) => !r.hidden && !r.deletedAt).map((r) => r.rating);
  const sum = visible.reduce((a, b) => a + b, 0);
  return {
    average: visible.length === 0 ? null : Math.round((sum * 10) / visible.length) / 10,
    count: visible.length,
  };
}

describe('POST /tour/:tourId/reviews', () => {
  it('a traveller reviews their paid trip once it has ended; every tour shape then carries the rating', async () => {
    const tour = await upcomingTour();
    const before = await tourBySlug(tour.slug);
    expect(before.rating).toEqual({ average: null, count: 0 });

    const { user, bookingId } = (await travellersOf(tour.id, 1))[0]!;
    const res = await postReview(user, tour.id, {
      rating: 4,
      comment: '  Great boat, kind guide.  ',
      booking: bookingId,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ statusCode: 201, success: true, message: 'Review created' });
    const review = res.json().data;
    expect(Object.keys(review).sort()).toEqual(
      ['_id', 'booking', 'comment', 'createdAt', 'rating', 'tour', 'updatedAt', 'user'].sort(),
    );
    expect(review).toMatchObject({
      tour: tour.id,
      booking: bookingId,
      user: { _id: user.id, name: 'Traveller 1', picture: null },
      rating: 4,
      comment: 'Great boat, kind guide.',
      createdAt: clock.now().toISOString(),
    });

    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 4, count: 1 });
    const listed = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${tour.id}` });
    expect(listed.json().data[0].rating).toEqual({ average: 4, count: 1 });
    const projected = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${tour.id}&fields=rating` });
    expect(projected.json().data).toEqual([{ _id: tour.id, rating: { average: 4, count: 1 } }]);
    const booking = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking/${bookingId}`,
      headers: user.auth,
    });
    expect(booking.json().data.tour.rating).toEqual({ average: 4, count: 1 });
  });

  it('refuses bookings that are not paid, not over, of another tour (400 naming booking) or not the caller’s (404)', async () => {
    const tour = await upcomingTour();
    const otherTour = await upcomingTour();
    const traveller = await createUser(t.ctx);
    const stranger = await createUser(t.ctx);
    const unpaid = (await bookThroughApi(t.app, traveller, tour.id)).bookingId;
    const paid = await paidBooking(traveller, tour.id);
    const cancelled = await paidBooking(traveller, tour.id);
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${cancelled}/cancel`,
      headers: traveller.auth,
    });
    expect(cancel.statusCode).toBe(200);
    const ofOtherTour = await paidBooking(traveller, otherTour.id);

    // The trip has not ended: not even a minute before its end.
    const notYet = await postReview(traveller, tour.id, { rating: 5, booking: paid });
    expect(notYet.statusCode).toBe(400);
    expect(paths(notYet)).toEqual(['booking']);
    expect(notYet.json().message).toMatch(/once it has ended/);
    clock.advance(3 * DAY - 1);
    await signedIn(traveller);
    await signedIn(stranger);
    const lastMillisecond = await postReview(traveller, tour.id, { rating: 5, booking: paid });
    expect(lastMillisecond.statusCode).toBe(400);
    expect(paths(lastMillisecond)).toEqual(['booking']);
    clock.advance(1);
    await signedIn(traveller);

    for (const [what, booking, message] of [
      ['unpaid', unpaid, /paid booking/],
      ['cancelled after payment', cancelled, /paid booking/],
      ['of another tour', ofOtherTour, /another tour/],
    ] as const) {
      const res = await postReview(traveller, tour.id, { rating: 5, booking });
      expect(res.statusCode, what).toBe(400);
      expect(res.json().code, what).toBe('VALIDATION_ERROR');
      expect(paths(res), what).toEqual(['booking']);
      expect(res.json().message, what).toMatch(message);
    }
    // Someone else's booking is answered as if it did not exist.
    const foreign = await postReview(stranger, tour.id, { rating: 1, booking: paid });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().message).toBe('Booking not found');
    const unknownTour = await postReview(traveller, '0190a0c0-0000-7000-8000-000000000000', {
      rating: 5,
      booking: paid,
    });
    expect(unknownTour.statusCode).toBe(404);

    // Exactly at its end the trip is over; a second review of the booking is a 409, also when sent at once.
    const [first, second] = await Promise.all([
      postReview(traveller, tour.id, { rating: 5, booking: paid }),
      postReview(traveller, tour.id, { rating: 2, booking: paid }),
    ]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([201, 409]);
    const duplicate = first.statusCode === 409 ? first : second;
    expect(duplicate.json()).toMatchObject({
      code: 'CONFLICT',
      message: 'This booking has already been reviewed',
      errorSources: [{ path: 'booking' }],
    });
    expect((await postReview(traveller, tour.id, { rating: 3, booking: paid })).statusCode).toBe(409);
    expect(await ratingFromRows(tour.id)).toEqual({ average: first.statusCode === 201 ? 5 : 2, count: 1 });
    expect((await tourBySlug(tour.slug)).rating).toEqual(await ratingFromRows(tour.id));
  });

  it('bad input is a 400 naming the field; no token is a 401', async () => {
    const tour = await upcomingTour();
    const user = await createUser(t.ctx);
    const booking = '0190a0c0-0000-7000-8000-000000000000';
    const cases: [object, string][] = [
      [{ booking }, 'rating'],
      [{ rating: 0, booking }, 'rating'],
      [{ rating: 6, booking }, 'rating'],
      [{ rating: 4.5, booking }, 'rating'],
      [{ rating: '5', booking }, 'rating'],
      [{ rating: 5, booking, comment: 'x'.repeat(2001) }, 'comment'],
      [{ rating: 5, booking, comment: 42 }, 'comment'],
      [{ rating: 5 }, 'booking'],
      [{ rating: 5, booking: 'not-an-id' }, 'booking'],
    ];
    for (const [payload, field] of cases) {
      const res = await postReview(user, tour.id, payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(paths(res)).toEqual([field]);
    }
    const badTour = await postReview(user, 'nope', { rating: 5, booking });
    expect(badTour.statusCode).toBe(400);
    expect(paths(badTour)).toEqual(['tourId']);
    expect((await postReview(undefined, tour.id, { rating: 5, booking })).statusCode).toBe(401);
  });
});

describe('GET /tour/:tourId/reviews', () => {
  it('lists visible reviews newest first, sorts by rating or date, pages, and carries the rating in meta', async () => {
    const tour = await upcomingTour();
    const travellers = await travellersOf(tour.id, 5);
    const ratings = [3, 5, 1, 4, 2];
    const ids: string[] = [];
    for (const [i, { user, bookingId }] of travellers.entries()) {
      const res = await postReview(await signedIn(user), tour.id, {
        rating: ratings[i],
        comment: `Review ${i + 1}`,
        booking: bookingId,
      });
      expect(res.statusCode).toBe(201);
      ids.push(res.json().data._id);
      clock.advance(MINUTE);
    }

    const all = await listReviews(tour.id);
    expect(all.statusCode).toBe(200);
    expect(all.json().data.map((r: { rating: number }) => r.rating)).toEqual([2, 4, 1, 5, 3]);
    expect(all.json().meta).toEqual({ page: 1, limit: 10, total: 5, totalPage: 1, average: 3, count: 5 });
    expect(all.json().data[0].hidden).toBeUndefined();
    expect(all.json().data[0].user).toEqual({
      _id: travellers[4]!.user.id,
      name: 'Traveller 5',
      picture: null,
    });

    const ratingsOf = async (query: string) =>
      (await listReviews(tour.id, query)).json().data.map((r: { rating: number }) => r.rating);
    expect(await ratingsOf('?sort=rating')).toEqual([1, 2, 3, 4, 5]);
    expect(await ratingsOf('?sort=-rating')).toEqual([5, 4, 3, 2, 1]);
    expect(await ratingsOf('?sort=createdAt')).toEqual([3, 5, 1, 4, 2]);
    expect(await ratingsOf('?sort=-createdAt')).toEqual([2, 4, 1, 5, 3]);
    const page = await listReviews(tour.id, '?limit=2&page=2');
    expect(page.json().data.map((r: { comment: string }) => r.comment)).toEqual(['Review 3', 'Review 2']);
    expect(page.json().meta).toEqual({ page: 2, limit: 2, total: 5, totalPage: 3, average: 3, count: 5 });
    const fields = await listReviews(tour.id, '?fields=rating&limit=1');
    expect(fields.json().data).toEqual([{ _id: ids[4], rating: 2 }]);

    // An admin hides the 5-star review: gone from the list, the meta and the tour's rating.
    expect((await patchReview(await signedIn(admin), ids[1]!, { hidden: true })).statusCode).toBe(200);
    const afterHide = await listReviews(tour.id);
    expect(afterHide.json().data.map((r: { _id: string }) => r._id)).not.toContain(ids[1]);
    expect(afterHide.json().meta).toMatchObject({ total: 4, average: 2.5, count: 4 });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 2.5, count: 4 });
  });

  it('a tour without reviews has an empty list, average null; unknown or malformed tour ids are 404 or 400', async () => {
    const tour = await upcomingTour();
    const res = await listReviews(tour.id);
    expect(res.json()).toMatchObject({
      data: [],
      meta: { page: 1, limit: 10, total: 0, totalPage: 0, average: null, count: 0 },
    });
    expect((await listReviews('0190a0c0-0000-7000-8000-000000000000')).statusCode).toBe(404);
    const bad = await listReviews('nope');
    expect(bad.statusCode).toBe(400);
    expect(paths(bad)).toEqual(['tourId']);
    expect((await listReviews(tour.id, '?page=0')).statusCode).toBe(400);
  });
});

describe('PATCH /reviews/:id', () => {
  it('its author changes rating and comment for 30 days after writing it, not a millisecond longer', async () => {
    const tour = await upcomingTour();
    const { user, bookingId } = (await travellersOf(tour.id, 1))[0]!;
    const created = (
      await postReview(user, tour.id, { rating: 2, comment: 'Rainy', booking: bookingId })
    ).json().data;

    clock.advance(30 * DAY);
    await signedIn(user);
    const edited = await patchReview(user, created._id, { rating: 4, comment: 'Rainy but lovely' });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().data).toMatchObject({
      _id: created._id,
      rating: 4,
      comment: 'Rainy but lovely',
      createdAt: created.createdAt,
      updatedAt: clock.now().toISOString(),
    });
    expect(edited.json().data.hidden).toBeUndefined();
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 4, count: 1 });
    const cleared = await patchReview(user, created._id, { comment: null });
    expect(cleared.json().data.comment).toBeNull();

    clock.advance(1);
    await signedIn(user);
    const late = await patchReview(user, created._id, { rating: 1 });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/within 30 days/);
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 4, count: 1 });
  });

  it('an admin hides and shows a review; only admins may, and only its author edits it; others get 404', async () => {
    const tour = await upcomingTour();
    const [a, b] = await travellersOf(tour.id, 2);
    const stranger = await createUser(t.ctx);
    await signedIn(admin);
    const ra = (await postReview(a!.user, tour.id, { rating: 5, booking: a!.bookingId })).json().data;
    await postReview(b!.user, tour.id, { rating: 2, booking: b!.bookingId });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 3.5, count: 2 });

    const hidden = await patchReview(admin, ra._id, { hidden: true });
    expect(hidden.statusCode).toBe(200);
    expect(hidden.json().data).toMatchObject({ _id: ra._id, hidden: true, rating: 5 });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 2, count: 1 });
    // Hiding twice changes nothing.
    expect((await patchReview(admin, ra._id, { hidden: true })).statusCode).toBe(200);
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 2, count: 1 });
    // The author may still edit a hidden review; it stays out of the rating.
    expect((await patchReview(a!.user, ra._id, { rating: 4 })).json().data.hidden).toBeUndefined();
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 2, count: 1 });

    const forbidden = await patchReview(a!.user, ra._id, { hidden: false });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toBe('Only an admin can hide or show a review');
    const adminEdit = await patchReview(admin, ra._id, { rating: 1 });
    expect(adminEdit.statusCode).toBe(403);
    for (const payload of [{ hidden: false }, { rating: 1 }, {}]) {
      const res = await patchReview(stranger, ra._id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(404);
    }

    const shown = await patchReview(admin, ra._id, { hidden: false });
    expect(shown.json().data).toMatchObject({ hidden: false, rating: 4 });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 3, count: 2 });
    expect((await tourBySlug(tour.slug)).rating).toEqual(await ratingFromRows(tour.id));

    for (const [payload, field] of [
      [{ rating: 9 }, 'rating'],
      [{ hidden: 'yes' }, 'hidden'],
      [{ comment: 'x'.repeat(2001) }, 'comment'],
    ] as const) {
      const res = await patchReview(admin, ra._id, payload);
      expect(res.statusCode).toBe(400);
      expect(paths(res)).toEqual([field]);
    }
    expect(
      (await patchReview(admin, '0190a0c0-0000-7000-8000-000000000000', { hidden: true })).statusCode,
    ).toBe(404);
    expect((await patchReview(undefined, ra._id, { hidden: true })).statusCode).toBe(401);
  });
});

describe('DELETE /reviews/:id', () => {
  it('its author or an admin deletes a review and the rating follows; anyone else gets 404', async () => {
    const tour = await upcomingTour();
    const [a, b, c] = await travellersOf(tour.id, 3);
    await signedIn(admin);
    const stranger = await createUser(t.ctx);
    const ids: string[] = [];
    for (const [traveller, rating] of [
      [a!, 5],
      [b!, 4],
      [c!, 1],
    ] as const) {
      ids.push(
        (await postReview(traveller.user, tour.id, { rating, booking: traveller.bookingId })).json().data._id,
      );
    }
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 3.3, count: 3 });

    expect((await deleteReview(stranger, ids[0]!)).statusCode).toBe(404);
    expect((await deleteReview(b!.user, ids[0]!)).statusCode).toBe(404);
    const own = await deleteReview(a!.user, ids[0]!);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ success: true, message: 'Review deleted', data: null });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 2.5, count: 2 });
    expect((await deleteReview(a!.user, ids[0]!)).statusCode).toBe(404);

    // A hidden review counted for nothing: deleting it leaves the rating as it is.
    await patchReview(admin, ids[2]!, { hidden: true });
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 4, count: 1 });
    expect((await deleteReview(admin, ids[2]!)).statusCode).toBe(200);
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: 4, count: 1 });
    expect((await deleteReview(admin, ids[1]!)).statusCode).toBe(200);
    expect((await tourBySlug(tour.slug)).rating).toEqual({ average: null, count: 0 });
    expect((await listReviews(tour.id)).json().data).toEqual([]);

    // The booking can be reviewed again once its review is gone.
    const again = await postReview(await signedIn(a!.user), tour.id, { rating: 3, booking: a!.bookingId });
    expect(again.statusCode).toBe(201);
    expect((await deleteReview(undefined, again.json().data._id)).statusCode).toBe(401);
  });
});

describe('the kept rating under concurrent writes', () => {
  it('equals the average of the rows after 100 reviews posted at once, and after hides, edits and deletes at once', async () => {
    const tour = await upcomingTour(100);
    const travellers: { user: TestUser; bookingId: string }[] = [];
    // Booked ten at a time: the tour's row serialises the holds anyway.
    for (let batch = 0; batch < 10; batch++) {
      const users = await Promise.all(
        Array.from({ length: 10 }, (_, i) => createUser(t.ctx, { name: `Crowd ${batch * 10 + i}` })),
      );
      const bookingIds = await Promise.all(users.map((user) => paidBooking(user, tour.id)));
      for (const [i, user] of users.entries()) travellers.push({ user, bookingId: bookingIds[i]! });
    }
    tripsEnd();
    await Promise.all(travellers.map(({ user }) => signedIn(user)));

    // Ratings with an average that needs rounding: 100 reviews, 1..5 in a fixed uneven pattern.
    const ratingFor = (i: number) => [5, 4, 4, 3, 5, 1, 2, 5, 4, 3, 5][i % 11]!;
    const posted = await Promise.all(
      travellers.map(({ user, bookingId }, i) =>
        postReview(user, tour.id, { rating: ratingFor(i), booking: bookingId }),
      ),
    );
    expect(posted.map((r) => r.statusCode)).toEqual(Array(100).fill(201));
    const expected = await ratingFromRows(tour.id);
    expect(expected.count).toBe(100);
    expect((await tourBySlug(tour.slug)).rating).toEqual(expected);
    expect((await listReviews(tour.id)).json().meta).toMatchObject({ ...expected, total: 100 });
    const [kept] = await t.ctx.db
      .select({ sum: tours.ratingSum, count: tours.ratingCount })
      .from(tours)
      .where(eq(tours.id, tour.id));
    const [counted] = await t.ctx.db
      .select({
        sum: sql<number>`coalesce(sum(${reviews.rating}), 0)::int`,
        count: sql<number>`count(*)::int`,
      })
      .from(reviews)
      .where(eq(reviews.tourId, tour.id));
    expect(kept).toEqual(counted);

    // At once: an admin hides 20, their authors edit 40 (some of them hidden), 20 are deleted, 10 hidden
    // ones are shown again by another request racing the edits.
    await signedIn(admin);
    const ids = posted.map((r) => r.json().data._id as string);
    const writes: Promise<{ statusCode: number }>[] = [];
    for (let i = 0; i < 100; i++) {
      const { user } = travellers[i]!;
      if (i < 20) writes.push(patchReview(admin, ids[i]!, { hidden: true }));
      if (i >= 10 && i < 50) writes.push(patchReview(user, ids[i]!, { rating: 6 - ratingFor(i) }));
      if (i >= 50 && i < 70) writes.push(deleteReview(i % 2 === 0 ? user : admin, ids[i]!));
    }
    const settled = await Promise.all(writes);
    expect(settled.map((r) => r.statusCode)).toEqual(Array(writes.length).fill(200));
    const unhide = await Promise.all(
      ids
        .slice(0, 10)
        .map((id, i) =>
          Promise.all([
            patchReview(admin, id, { hidden: false }),
            patchReview(travellers[i]!.user, id, { rating: 1 + (i % 5) }),
          ]),
        ),
    );
    expect(unhide.flat().map((r) => r.statusCode)).toEqual(Array(20).fill(200));

    const after = await ratingFromRows(tour.id);
    expect(after.count).toBe(100 - 20 - 10);
    expect((await tourBySlug(tour.slug)).rating).toEqual(after);
    expect((await listReviews(tour.id)).json().meta).toMatchObject({ ...after, total: after.count });
  });
});
