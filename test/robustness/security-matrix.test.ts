import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/db/schema/index.js';
import { departures, sessions } from '../../src/db/schema/index.js';
import { buildTestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { forgedAccessTokens } from '../helpers/forged-tokens.js';
import { bookThroughApi, payOnLocalGateway, populateWorld } from '../helpers/populated-world.js';
import { expectErrorEnvelope, expectNothingInternal } from './response-checks.js';
import { documentedOperations, fillPath, type Operation, operationKey } from './route-table.js';

/*
 * Who may call what, for every route of the API description. A route missing from ACCESS fails the suite,
 * so a new route has to be classified before it ships.
 */

type Access =
  | { who: 'public' }
  | {
      who: 'signed-in' | Role[];
      /**
       * Whose resource the path names: `owner` = the owner or an admin (others 404), `owner-only` = the owner
       * alone (admins too get 404), `self` = only one's own (others 403, admins excepted), `assigned-guide` =
       * the departure's assigned guide or an admin (a guide of another departure 403).
       */
      resource?: 'owner' | 'owner-only' | 'self' | 'assigned-guide';
    };

const ADMINS: Role[] = ['ADMIN', 'SUPER_ADMIN'];
const ALL_ROLES: Role[] = ['USER', 'GUIDE', 'ADMIN', 'SUPER_ADMIN'];
const PUBLIC: Access = { who: 'public' };
const SIGNED_IN: Access = { who: 'signed-in' };
const ADMIN_ONLY: Access = { who: ADMINS };

const ACCESS: Record<string, Access> = {
  'GET /': PUBLIC,
  'GET /api/v1': PUBLIC,
  'GET /api/v1/payment/result/{kind}': PUBLIC,
  'GET /health': PUBLIC,
  'GET /ready': PUBLIC,
  'GET /api/v1/auth/google': PUBLIC,
  'GET /api/v1/auth/google/callback': PUBLIC,
  'POST /api/v1/auth/login': PUBLIC,
  'POST /api/v1/auth/refresh-token': PUBLIC,
  'POST /api/v1/auth/logout': PUBLIC,
  'POST /api/v1/auth/logout-all': SIGNED_IN,
  'GET /api/v1/auth/sessions': SIGNED_IN,
  'DELETE /api/v1/auth/sessions/{id}': { who: 'signed-in', resource: 'owner-only' },
  'POST /api/v1/auth/change-password': SIGNED_IN,
  'POST /api/v1/auth/set-password': SIGNED_IN,
  'POST /api/v1/auth/forgot-password': PUBLIC,
  // Authorised by the emailed reset token, not by a session.
  'POST /api/v1/auth/reset-password': PUBLIC,
  'POST /api/v1/user/register': PUBLIC,
  'GET /api/v1/user/me': SIGNED_IN,
  'GET /api/v1/user/all-users': ADMIN_ONLY,
  'GET /api/v1/user/security-events': { who: ['SUPER_ADMIN'] },
  'GET /api/v1/user/{id}': ADMIN_ONLY,
  'PATCH /api/v1/user/{id}': { who: 'signed-in', resource: 'self' },
  'POST /api/v1/otp/send': PUBLIC,
  'POST /api/v1/otp/verify': PUBLIC,
  'GET /api/v1/stats/user': ADMIN_ONLY,
  'GET /api/v1/stats/tour': ADMIN_ONLY,
  'GET /api/v1/stats/booking': ADMIN_ONLY,
  'GET /api/v1/stats/payment': ADMIN_ONLY,
  'POST /api/v1/division/create': ADMIN_ONLY,
  'GET /api/v1/division': PUBLIC,
  'GET /api/v1/division/{slug}': PUBLIC,
  'PATCH /api/v1/division/{id}': ADMIN_ONLY,
  'DELETE /api/v1/division/{id}': ADMIN_ONLY,
  'POST /api/v1/tour/create-tour-type': ADMIN_ONLY,
  'GET /api/v1/tour/tour-types': PUBLIC,
  'GET /api/v1/tour/tour-types/{id}': PUBLIC,
  'PATCH /api/v1/tour/tour-types/{id}': ADMIN_ONLY,
  'DELETE /api/v1/tour/tour-types/{id}': ADMIN_ONLY,
  'POST /api/v1/tour/create': ADMIN_ONLY,
  'GET /api/v1/tour': PUBLIC,
  'GET /api/v1/tour/{slug}': PUBLIC,
  'PATCH /api/v1/tour/{id}': ADMIN_ONLY,
  'DELETE /api/v1/tour/{id}': ADMIN_ONLY,
  'GET /api/v1/tour/{tourId}/departures': PUBLIC,
  'POST /api/v1/tour/{tourId}/departures': ADMIN_ONLY,
  'GET /api/v1/departures/{id}': PUBLIC,
  'PATCH /api/v1/departures/{id}': ADMIN_ONLY,
  'GET /api/v1/guide/departures': { who: ['GUIDE'] },
  'GET /api/v1/departures/{id}/manifest': { who: ['GUIDE', ...ADMINS], resource: 'assigned-guide' },
  'POST /api/v1/booking/{bookingId}/check-in': { who: ['GUIDE', ...ADMINS], resource: 'assigned-guide' },
  'POST /api/v1/departures/{id}/cancel': ADMIN_ONLY,
  'POST /api/v1/departures/{id}/waitlist': SIGNED_IN,
  'GET /api/v1/departures/{id}/waitlist': ADMIN_ONLY,
  'GET /api/v1/waitlist/mine': SIGNED_IN,
  'DELETE /api/v1/waitlist/{id}': { who: 'signed-in', resource: 'owner' },
  'POST /api/v1/booking': SIGNED_IN,
  'GET /api/v1/booking': ADMIN_ONLY,
  'GET /api/v1/booking/my-bookings': SIGNED_IN,
  'GET /api/v1/booking/{bookingId}': { who: 'signed-in', resource: 'owner' },
  'PATCH /api/v1/booking/{bookingId}/status': { who: 'signed-in', resource: 'owner' },
  'POST /api/v1/booking/{bookingId}/cancel': { who: 'signed-in', resource: 'owner' },
  'GET /api/v1/booking/{bookingId}/refunds': { who: 'signed-in', resource: 'owner' },
  'POST /api/v1/tour/{tourId}/reviews': SIGNED_IN,
  'GET /api/v1/tour/{tourId}/reviews': PUBLIC,
  'PATCH /api/v1/reviews/{id}': { who: 'signed-in', resource: 'owner' },
  'DELETE /api/v1/reviews/{id}': { who: 'signed-in', resource: 'owner' },
  'GET /api/v1/refunds': ADMIN_ONLY,
  'POST /api/v1/refunds/{id}/retry': ADMIN_ONLY,
  'POST /api/v1/payment/init-payment/{bookingId}': { who: 'signed-in', resource: 'owner-only' },
  // Gateway callbacks: nothing in them is trusted; the gateway's validation API decides.
  'POST /api/v1/payment/success': PUBLIC,
  'POST /api/v1/payment/fail': PUBLIC,
  'POST /api/v1/payment/cancel': PUBLIC,
  'POST /api/v1/payment/validate-payment': PUBLIC,
  'GET /api/v1/payment/invoice/{paymentId}': { who: 'signed-in', resource: 'owner' },
  // Authorised by the signature of the link, not by a session.
  'GET /api/v1/payment/invoice/{paymentId}/download': PUBLIC,
  'GET /api/v1/payment/local-gateway/{transactionId}': PUBLIC,
};

const t = await buildTestApp({ env: { AUTH_RATE_LIMIT_MAX: '100000' } });
afterAll(() => t.close());
const world = await populateWorld(t.app);
// The world's departure is led by a guide of its own: `world.guide` leads another one.
const assignedGuide = await createUser(t.ctx, { role: 'GUIDE', name: 'Assigned Guide' });
await t.ctx.db
  .update(departures)
  .set({ guideId: assignedGuide.id })
  .where(eq(departures.id, world.tour.departureId));
const otherTour = await createTour(t.ctx);
await t.ctx.db
  .update(departures)
  .set({ guideId: world.guide.id })
  .where(eq(departures.id, otherTour.departureId));
const review = await reviewOfEndedTrip();
const operations = await documentedOperations(t.app);
// The owner waits on a sold-out departure: their waitlist entry is a resource someone else must not reach.
const soldOut = await createTour(t.ctx, { maxGuest: 1 });
await bookThroughApi(t.app, world.stranger, soldOut.id, 1);
const ownersEntry = (
  await t.app.inject({
    method: 'POST',
    url: `/api/v1/departures/${soldOut.departureId}/waitlist`,
    headers: world.owner.auth,
    payload: { guestCount: 1 },
  })
).json().data._id as string;
const byRole: Record<Role, TestUser> = {
  USER: world.stranger,
  GUIDE: world.guide,
  ADMIN: world.admin,
  SUPER_ADMIN: world.superAdmin,
};

/** A review by the world's owner of a paid trip, its departure's dates moved into the past once paid. */
async function reviewOfEndedTrip(): Promise<{ id: string }> {
  const tour = await createTour(t.ctx);
  const booked = await bookThroughApi(t.app, world.owner, tour.id);
  if ((await payOnLocalGateway(t.app, booked.paymentUrl)) !== 302) throw new Error('payment failed');
  const ended = new Date(Date.now() - 24 * 60 * 60 * 1000);
  await t.ctx.db
    .update(departures)
    .set({ startDate: ended, endDate: ended })
    .where(eq(departures.id, tour.departureId));
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/tour/${tour.id}/reviews`,
    headers: world.owner.auth,
    payload: { rating: 4, booking: booked.bookingId },
  });
  if (res.statusCode !== 201) throw new Error(`review failed: ${res.statusCode} ${res.body}`);
  return { id: res.json().data._id };
}

/** The owner's resources in the path, and a body that passes validation, so only the caller decides. */
function requestFor(op: Operation): { method: string; url: string; payload?: object } {
  const url = fillPath(op.path, {
    id: op.path.includes('/auth/sessions/')
      ? world.owner.sessionId
      : op.path.includes('/user/')
        ? world.owner.id
        : op.path.includes('/tour-types/')
          ? world.tourType.id
          : op.path.includes('/division/')
            ? world.division.id
            : op.path.includes('/departures/')
              ? world.tour.departureId
              : op.path.includes('/reviews/')
                ? review.id
                : op.path.includes('/waitlist/')
                  ? ownersEntry
                  : world.tour.id,
    tourId: world.tour.id,
    bookingId: world.pending.bookingId,
    paymentId: world.paid.paymentId,
    slug: world.tour.slug,
  });
  const bodies: Record<string, object> = {
    'POST /api/v1/auth/change-password': { oldPassword: 'Correct-Horse-9', newPassword: 'Another-Horse-10' },
    'POST /api/v1/auth/set-password': { password: 'Another-Horse-10' },
    'PATCH /api/v1/user/{id}': { name: 'Renamed' },
    'POST /api/v1/division/create': { name: 'Matrix Division' },
    'PATCH /api/v1/division/{id}': { name: 'Matrix Division 2' },
    'POST /api/v1/tour/create-tour-type': { name: 'Matrix Type' },
    'PATCH /api/v1/tour/tour-types/{id}': { name: 'Matrix Type 2' },
    'POST /api/v1/tour/create': {
      title: 'Matrix Tour',
      division: world.division.id,
      tourType: world.tourType.id,
      startDate: '2030-01-01',
      endDate: '2030-01-03',
    },
    'PATCH /api/v1/tour/{id}': { title: 'Matrix Tour 2' },
    'POST /api/v1/tour/{tourId}/departures': { startDate: '2030-02-01', endDate: '2030-02-03', capacity: 10 },
    'PATCH /api/v1/departures/{id}': { capacity: 100 },
    'POST /api/v1/departures/{id}/cancel': { reason: 'Matrix' },
    'POST /api/v1/departures/{id}/waitlist': { guestCount: 1 },
    'POST /api/v1/booking': { tour: world.tour.id, guestCount: 1 },
    'PATCH /api/v1/booking/{bookingId}/status': { status: 'CANCEL' },
    'POST /api/v1/booking/{bookingId}/cancel': { reason: 'Matrix' },
    'POST /api/v1/tour/{tourId}/reviews': { rating: 5, booking: world.paid.bookingId },
    'PATCH /api/v1/reviews/{id}': { comment: 'Matrix' },
  };
  return { method: op.method, url, payload: bodies[operationKey(op)] };
}

const guarded = operations.filter((op) => ACCESS[operationKey(op)]?.who !== 'public');

async function call(op: Operation, headers: Record<string, string>) {
  const req = requestFor(op);
  const res = await t.app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers,
    payload: req.payload,
  });
  const label = `${req.method} ${req.url} → ${res.statusCode}`;
  expectNothingInternal(res, label, t.ctx.config);
  if (res.statusCode >= 400) expectErrorEnvelope(res, label);
  return { res, label };
}

describe('route classification', () => {
  it('classifies every documented route, and no classified route has disappeared', () => {
    const documented = operations.map(operationKey);
    expect(documented.filter((k) => !(k in ACCESS))).toEqual([]);
    expect(Object.keys(ACCESS).filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('documents a security requirement exactly on the guarded routes', () => {
    const mismatched = operations
      .filter((op) => op.documentedAsGuarded !== (ACCESS[operationKey(op)]?.who !== 'public'))
      .map(operationKey);
    expect(mismatched).toEqual([]);
  });
});

describe.each(guarded.map((op) => [operationKey(op), op] as const))('%s', (_key, op) => {
  const access = ACCESS[operationKey(op)]!;

  it('answers 401 without a token', async () => {
    const { res, label } = await call(op, {});
    expect(res.statusCode, label).toBe(401);
    expect(res.json().code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 to expired, forged, unsigned, wrong-secret and refresh tokens', async () => {
    const forged = await forgedAccessTokens(t.ctx.config, world.owner);
    for (const [kind, token] of Object.entries(forged)) {
      const carriers: Record<string, string>[] = [
        { authorization: `Bearer ${token}` },
        { cookie: `accessToken=${token}` },
      ];
      for (const headers of carriers) {
        const { res, label } = await call(op, headers);
        expect(res.statusCode, `${kind}: ${label}`).toBe(401);
        expect(res.json().code, kind).toBe(kind === 'expired' ? 'TOKEN_EXPIRED' : 'UNAUTHENTICATED');
      }
    }
  });

  it('answers 401 to the token of a session that has ended', async () => {
    const user = await createUser(t.ctx);
    await t.ctx.db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, user.sessionId));
    const { res, label } = await call(op, user.auth);
    expect(res.statusCode, label).toBe(401);
  });

  if (Array.isArray(access.who)) {
    const allowed = access.who;
    it.each(ALL_ROLES.filter((r) => !allowed.includes(r)))('answers 403 to a %s', async (role) => {
      const { res, label } = await call(op, byRole[role].auth);
      expect(res.statusCode, label).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    });
  }

  if ('resource' in access && access.resource === 'assigned-guide') {
    it("answers 403 to a guide of another departure, and lets the departure's own guide by", async () => {
      const other = await call(op, world.guide.auth);
      expect(other.res.statusCode, other.label).toBe(403);
      expect(other.res.json().code).toBe('FORBIDDEN');
      const own = await call(op, assignedGuide.auth);
      expect([401, 403, 404], own.label).not.toContain(own.res.statusCode);
    });
  } else if ('resource' in access && access.resource) {
    const resource = access.resource;
    it(`answers ${resource === 'self' ? 403 : 404} when the resource is someone else's`, async () => {
      const others: TestUser[] = resource === 'owner-only' ? [world.stranger, world.admin] : [world.stranger];
      for (const other of others) {
        const { res, label } = await call(op, other.auth);
        expect(res.statusCode, label).toBe(resource === 'self' ? 403 : 404);
      }
    });
  }
});

describe('blocked and deleted accounts', () => {
  it.each([
    ['blocked', { isActive: 'BLOCKED' as const }],
    ['inactive', { isActive: 'INACTIVE' as const }],
    ['deleted', { isDeleted: true }],
  ])('a %s user with a valid token is refused on every guarded route', async (_state, options) => {
    const user = await createUser(t.ctx, options);
    for (const op of guarded) {
      const { res, label } = await call(op, user.auth);
      expect([401, 403], label).toContain(res.statusCode);
    }
  });
});

describe('review routes for admins', () => {
  // Last, as it deletes the review the rows above use.
  it("lets an admin hide, show and delete someone else's review, but not review a booking of someone else", async () => {
    const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/v1${url}`, headers: world.admin.auth, payload });
    const post = await send('POST', `/tour/${world.tour.id}/reviews`, {
      rating: 5,
      booking: world.paid.bookingId,
    });
    expect(post.statusCode).toBe(404);
    expect((await send('PATCH', `/reviews/${review.id}`, { hidden: true })).json().data.hidden).toBe(true);
    expect((await send('PATCH', `/reviews/${review.id}`, { hidden: false })).json().data.hidden).toBe(false);
    expect((await send('DELETE', `/reviews/${review.id}`)).statusCode).toBe(200);
  });
});
