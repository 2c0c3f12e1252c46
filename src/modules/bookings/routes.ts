import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ok } from '../../lib/envelope.js';
import { type AuthGuard, caller } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import {
  adminListQuery,
  adminListResponse,
  bookingDetailResponse,
  bookingIdParams,
  changeStatusBody,
  createBookingBody,
  createBookingResponse,
  idempotencyHeaders,
  myListQuery,
  myListResponse,
} from './schemas.js';
import type { BookingService } from './service.js';

export const bookingRoutes: FastifyPluginAsyncZod<{ bookings: BookingService; guard: AuthGuard }> = async (
  app,
  { bookings: service, guard },
) => {
  const signedIn = guard.requireAuth();
  const adminOnly = guard.requireAuth('ADMIN', 'SUPER_ADMIN');

  app.post(
    '/',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: 'Book a tour: hold seats and open a payment session',
        description:
          'Needs phone and address on the profile. `departure` (optional) picks a departure of `tour`; without it ' +
          "the booking is for the tour's next bookable departure. A departure of another tour → 400; a closed, " +
          'cancelled or started one → 409. Seats are held on the departure until the hold expires ' +
          '(BOOKING_HOLD_MINUTES); not enough seats there → 409 SOLD_OUT, never another date. One account may hold at most ' +
          'MAX_ACTIVE_HOLDS_PER_USER unpaid bookings and MAX_HELD_SEATS_PER_USER seats at a time: past them ' +
          '429 RATE_LIMITED, with Retry-After until its first hold runs out. With an Idempotency-Key header, the ' +
          'same key and body replay the first response, another body is a 422, and a request still ' +
          'running with that key is a 409. A gateway failure answers 502 and holds no seats.',
        security,
        headers: idempotencyHeaders,
        body: createBookingBody,
        response: { 201: createBookingResponse },
      },
    },
    async (request, reply) => {
      const result = await service.bookTour(
        caller(request),
        request.body,
        request.headers['idempotency-key'],
      );
      return ok(reply, 'Booking created successfully', result.data, { statusCode: result.statusCode });
    },
  );

  app.get(
    '/',
    {
      preValidation: adminOnly,
      schema: {
        tags: ['Bookings'],
        summary: 'All bookings (admin), with tour, user and payment',
        description:
          'Search over tour title, user name and email; filters `_id`, `status`, `tour`, `departure`, `user`; sort ' +
          '`createdAt`, `updatedAt`, `guestCount`, `status`, `amount`.',
        security,
        querystring: adminListQuery,
        response: { 200: adminListResponse },
      },
    },
    async (request, reply) =>
      ok(reply, 'Bookings retrieved successfully', await service.listAll(request.query)),
  );

  app.get(
    '/my-bookings',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: "The caller's bookings (tour and payment as ids)",
        description: 'Filters `_id`, `status`, `tour`, `departure`.',
        security,
        querystring: myListQuery,
        response: { 200: myListResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Your bookings retrieved successfully',
        await service.listMine(caller(request), request.query),
      ),
  );

  app.get(
    '/:bookingId',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: 'One booking (owner or admin)',
        description: "Someone else's booking answers 404, like a missing one.",
        security,
        params: bookingIdParams,
        response: { 200: bookingDetailResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Booking retrieved successfully',
        await service.getBooking(caller(request), request.params.bookingId),
      ),
  );

  app.patch(
    '/:bookingId/status',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: 'Change a booking status',
        description:
          'Owner: only PENDING → CANCEL. Admin: PENDING → CANCEL, PENDING → FAILED, COMPLETE → CANCEL ' +
          '(flagged for a refund). COMPLETE comes only from a validated payment. Any other transition → 409. ' +
          'Cancelling or failing releases the held seats exactly once; the unpaid payment becomes ' +
          'CANCELLED or FAILED. A PENDING booking whose payment is PAID is held for review (the gateway ' +
          'marked the payment risky): an admin approves it with COMPLETE (invoice emailed) or rejects it ' +
          'with CANCEL or FAILED (seats released, flagged for a refund); its owner cannot cancel it (409).',
        security,
        params: bookingIdParams,
        body: changeStatusBody,
        response: { 200: bookingDetailResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Booking status updated successfully',
        await service.changeStatus(caller(request), request.params.bookingId, request.body.status),
      ),
  );
};
