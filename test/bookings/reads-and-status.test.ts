import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let owner: TestUser;
let stranger: TestUser;
let admin: TestUser;
let superAdmin: TestUser;
let tourA: { id: string };
let tourB: { id: string };

beforeAll(async () => {
  // One owner holds many bookings here, more than the per-account hold limits allow.
  t = await buildTestApp({ env: { MAX_ACTIVE_HOLDS_PER_USER: '100', MAX_HELD_SEATS_PER_USER: '1000' } });
  owner = await createUser(t.ctx, { name: 'Owner' });
  stranger = await createUser(t.ctx);
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  superAdmin = await createUser(t.ctx, { role: 'SUPER_ADMIN' });
  tourA = await createTour(t.ctx, { title: 'Cox Bazar Escape', maxGuest: 30 });
  tourB = await createTour(t.ctx, { title: 'Bandarban Hills', maxGuest: 30 });
});
afterAll(() => t?.close());

async function book(user: TestUser, tour: string, guestCount = 1) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour, guestCount },
  });
  expect(res.statusCode).toBe(201);
  return res.json().data.booking as { _id: string; payment: { _id: string } };
}

const get = (url: string, user?: TestUser) =>
  t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: user?.auth ?? {} });
const setStatus = (id: string, status: unknown, user?: TestUser) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/booking/${id}/status`,
    headers: user?.auth ?? {},
    payload: { status },
  });

describe('GET /booking (admin list)', () => {
  it('lists bookings nested with tour, user and payment populated', async () => {
    const booking = await book(owner, tourA.id, 2);
    const res = await get('/booking', admin);
    expect(res.statusCode).toBe(200);
    const { data, meta } = res.json().data;
    expect(meta).toMatchObject({ page: 1, limit: 10 });
    expect(meta.total).toBeGreaterThanOrEqual(1);
    const item = data.find((b: { _id: string }) => b._id === booking._id);
    expect(item).toMatchObject({
      status: 'PENDING',
      guestCount: 2,
      tour: { _id: tourA.id, title: 'Cox Bazar Escape' },
      user: { _id: owner.id, name: 'Owner', email: owner.email },
      payment: { _id: booking.payment._id, status: 'UNPAID', invoiceUrl: null },
      needsReview: null,
    });
    expect(typeof item.payment.transactionId).toBe('string');
    expect(item.tour.images).toBeInstanceOf(Array);
  });

  it('filters by status, tour and user, searches by tour title and counts the filtered total', async () => {
    const other = await createUser(t.ctx);
    await book(other, tourB.id);
    await book(other, tourB.id);
    const byUser = (await get(`/booking?user=${other.id}`, superAdmin)).json().data;
    expect(byUser.meta.total).toBe(2);
    expect(byUser.data.every((b: { user: { _id: string } }) => b.user._id === other.id)).toBe(true);
    const byTour = (await get(`/booking?tour=${tourB.id}&status=PENDING`, admin)).json().data;
    expect(byTour.data.every((b: { tour: { _id: string } }) => b.tour._id === tourB.id)).toBe(true);
    const searched = (await get('/booking?searchTerm=bandarban', admin)).json().data;
    expect(searched.meta.total).toBe(byTour.meta.total);
    const projected = (await get('/booking?fields=status&limit=1', admin)).json().data;
    expect(Object.keys(projected.data[0]).sort()).toEqual(['_id', 'status']);
  });

  it('rejects malformed filters naming the field (400)', async () => {
    const bad = await get('/booking?status=PAID', admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('status');
    const badId = await get('/booking?tour=123', admin);
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errorSources[0].path).toBe('tour');
  });

  it('is for admins only: 401 without a token, 403 for a user', async () => {
    expect((await get('/booking')).statusCode).toBe(401);
    const res = await get('/booking', owner);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
  });
});

describe('GET /booking/my-bookings', () => {
  it("lists only the caller's bookings with tour and payment as id strings", async () => {
    const mine = await createUser(t.ctx);
    const booking = await book(mine, tourA.id, 3);
    await book(stranger, tourA.id);
    const res = await get('/booking/my-bookings?page=1&limit=10', mine);
    expect(res.statusCode).toBe(200);
    const { data, meta } = res.json().data;
    expect(meta).toEqual({ page: 1, limit: 10, total: 1, totalPage: 1 });
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      _id: booking._id,
      tour: tourA.id,
      payment: booking.payment._id,
      guestCount: 3,
      status: 'PENDING',
    });
    expect(typeof data[0].createdAt).toBe('string');
  });

  it('ignores a user filter (it cannot widen the list) and rejects a bad page (400)', async () => {
    const mine = await createUser(t.ctx);
    await book(mine, tourA.id);
    const res = await get(`/booking/my-bookings?user=${owner.id}`, mine);
    expect(res.json().data.meta.total).toBe(1);
    const bad = await get('/booking/my-bookings?page=0', mine);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('page');
  });

  it('needs a token (401)', async () => {
    expect((await get('/booking/my-bookings')).statusCode).toBe(401);
  });
});

describe('GET /booking/:bookingId', () => {
  it('shows the owner and admins the populated booking', async () => {
    const booking = await book(owner, tourA.id);
    const mine = await get(`/booking/${booking._id}`, owner);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().data).toMatchObject({
      _id: booking._id,
      tour: { _id: tourA.id },
      user: { _id: owner.id },
    });
    expect(mine.json().data.needsReview).toBeUndefined();
    const asAdmin = await get(`/booking/${booking._id}`, admin);
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().data.needsReview).toBeNull();
  });

  it("answers 404 for someone else's booking and for a missing one, 400 for a malformed id", async () => {
    const booking = await book(owner, tourA.id);
    expect((await get(`/booking/${booking._id}`, stranger)).statusCode).toBe(404);
    expect((await get('/booking/01a21902-3a43-70fa-9b6d-4aa9740e4795', owner)).statusCode).toBe(404);
    const bad = await get('/booking/nope', owner);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('bookingId');
    expect((await get(`/booking/${booking._id}`)).statusCode).toBe(401);
  });
});

describe('PATCH /booking/:bookingId/status', () => {
  it('lets the owner cancel a pending booking: seats released, payment CANCELLED', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 5 });
    const booking = await book(owner, tour.id, 4);
    const res = await setStatus(booking._id, 'CANCEL', owner);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'CANCEL', payment: { status: 'CANCELLED' } });
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    const again = await setStatus(booking._id, 'CANCEL', owner);
    expect(again.statusCode).toBe(409);
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
  });

  it('forbids the owner any other status (403) and hides the booking from strangers (404)', async () => {
    const booking = await book(owner, tourA.id);
    const complete = await setStatus(booking._id, 'COMPLETE', owner);
    expect(complete.statusCode).toBe(403);
    expect((await setStatus(booking._id, 'CANCEL', stranger)).statusCode).toBe(404);
    expect((await setStatus(booking._id, 'CANCEL')).statusCode).toBe(401);
    expect((await bookingState(t.ctx, booking._id)).booking.status).toBe('PENDING');
  });

  it('rejects an unknown status naming the field (400)', async () => {
    const booking = await book(owner, tourA.id);
    const res = await setStatus(booking._id, 'CONFIRMED', owner);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('status');
  });

  it('lets an admin fail a pending booking but never mark it COMPLETE without payment (409)', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 5 });
    const booking = await book(owner, tour.id, 2);
    const complete = await setStatus(booking._id, 'COMPLETE', admin);
    expect(complete.statusCode).toBe(409);
    const failed = await setStatus(booking._id, 'FAILED', admin);
    expect(failed.statusCode).toBe(200);
    expect(failed.json().data).toMatchObject({ status: 'FAILED', payment: { status: 'FAILED' } });
    expect(await seatsBooked(t.ctx, tour.id)).toBe(0);
    expect((await setStatus(booking._id, 'PENDING', admin)).statusCode).toBe(409);
    expect((await setStatus(booking._id, 'CANCEL', admin)).statusCode).toBe(409);
  });
});
