import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/context.js';
import { startSession } from '../../src/modules/auth/sessions.js';
import { createDivision, createTour, createTourType } from './catalogue.js';
import { createUser, type TestUser } from './factories.js';

/**
 * A small populated database for tests that sweep every route: users of each role, one catalogue entry of
 * each kind, a pending booking and a paid one (both owned by `owner`), so routes can be called with real ids.
 */
export interface PopulatedWorld {
  superAdmin: TestUser;
  admin: TestUser;
  guide: TestUser;
  owner: TestUser;
  stranger: TestUser;
  division: { id: string; slug: string };
  tourType: { id: string };
  tour: { id: string; slug: string; departureId: string };
  pending: Booked;
  paid: Booked;
}

export interface Booked {
  bookingId: string;
  paymentId: string;
  transactionId: string;
  paymentUrl: string;
}

/** Books `tourId` for `user` through the API (local gateway). */
export async function bookThroughApi(
  app: FastifyInstance,
  user: TestUser,
  tourId: string,
  guestCount = 1,
): Promise<Booked> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tourId, guestCount },
  });
  if (res.statusCode !== 201) throw new Error(`booking failed: ${res.statusCode} ${res.body}`);
  const { paymentUrl, booking } = res.json().data;
  return {
    bookingId: booking._id,
    paymentId: booking.payment._id,
    transactionId: booking.payment.transactionId,
    paymentUrl,
  };
}

/** Presses "Pay" on the built-in local gateway page, as the payer's browser would. */
export async function payOnLocalGateway(app: FastifyInstance, paymentUrl: string): Promise<number> {
  const { pathname, search } = new URL(paymentUrl);
  const page = await app.inject({ method: 'GET', url: `${pathname}${search}` });
  const form = /<form method="post" action="([^"]+)">(.*?)<\/form>/s.exec(page.body);
  if (!form) throw new Error(`no payment form on the local gateway page (${page.statusCode})`);
  const fields = Object.fromEntries(
    [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
  );
  const res = await app.inject({
    method: 'POST',
    url: form[1]!.replace(/&amp;/g, '&'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields as Record<string, string>).toString(),
  });
  return res.statusCode;
}

export async function populateWorld(app: FastifyInstance): Promise<PopulatedWorld> {
  const ctx = app.ctx;
  const [superAdmin, admin, guide, owner, stranger] = [
    await createUser(ctx, { role: 'SUPER_ADMIN', name: 'Super Admin' }),
    await createUser(ctx, { role: 'ADMIN', name: 'Admin' }),
    await createUser(ctx, { role: 'GUIDE', name: 'Guide' }),
    await createUser(ctx, { name: 'Owner' }),
    await createUser(ctx, { name: 'Stranger' }),
  ];
  const division = await createDivision(ctx);
  const tourType = await createTourType(ctx);
  const tour = await createTour(ctx, { division: division.id, tourType: tourType.id, maxGuest: 100 });
  const pending = await bookThroughApi(app, owner, tour.id);
  const paid = await bookThroughApi(app, owner, tour.id);
  const status = await payOnLocalGateway(app, paid.paymentUrl);
  if (status !== 302) throw new Error(`local gateway payment answered ${status}`);
  return {
    superAdmin,
    admin,
    guide,
    owner,
    stranger,
    division: { id: division.id, slug: division.slug },
    tourType: { id: tourType.id },
    tour: { id: tour.id, slug: tour.slug, departureId: tour.departureId },
    pending,
    paid,
  };
}

/** A fresh session (new tokens) for an existing test user, e.g. after a test ended the old one. */
export async function renewSession(ctx: AppContext, user: TestUser): Promise<TestUser> {
  const tokens = await startSession(
    ctx.db,
    ctx,
    { id: user.id, email: user.email, role: user.role },
    { ip: '127.0.0.1', userAgent: 'vitest' },
    ctx.clock.now(),
  );
  return Object.assign(user, {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    sessionId: tokens.sessionId,
    auth: { authorization: `Bearer ${tokens.accessToken}` },
  });
}
