import { performance } from 'node:perf_hooks';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ok } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import {
  adminListQuery,
  adminListResponse,
  bookingDetailResponse,
  bookingIdParams,
  bookingRefundsResponse,
  cancelBookingBody,
  cancelBookingResponse,
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
          '429 RATE_LIMITED, with Retry-After until its first hold runs out. An account whose own unpaid hold on ' +
          'the departure ended (cancelled, expired) less than REHOLD_COOLDOWN_MINUTES ago → 429 RATE_LIMITED with ' +
          'Retry-After. With an Idempotency-Key header, the ' +
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
        performance.now() - reply.elapsedTime,
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
          'Owner: PENDING → CANCEL, COMPLETE → CANCEL. Admin: PENDING → CANCEL, PENDING → FAILED, ' +
          'COMPLETE → CANCEL. COMPLETE comes only from a validated payment. Any other transition → 409. ' +
          'CANCEL is exactly POST /booking/{bookingId}/cancel without options: seats released exactly once, ' +
          'an unpaid payment CANCELLED, a paid booking refunded what its cancellation policy gives now. A ' +
          'PENDING booking whose payment is PAID is held for review (the gateway marked the payment risky): ' +
          'an admin approves it with COMPLETE (invoice emailed) or rejects it with CANCEL or FAILED (seats ' +
          'released, the payment refunded in full); its owner cannot cancel it (409).',
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

  app.post(
    '/:bookingId/cancel',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: 'Cancel a booking (owner or admin), refunding a paid one by its cancellation policy',
        description:
          'PENDING → CANCEL: seats released, the unpaid payment CANCELLED. COMPLETE → CANCEL: seats released ' +
          'and a refund of what the cancellation policy gives at this moment (`refundIfCancelledNow`; ' +
          '`refund` is null when nothing is due), carried out by the payment gateway after the answer. An ' +
          'admin may pass `refundAmount` (major units, at most what was paid, with a `reason`) instead. A ' +
          'paid booking whose trip has started: 409 for the owner, admins may still cancel. An already ' +
          'cancelled or failed booking: 409, so of parallel cancels one cancels and refunds, the others get ' +
          "409. Someone else's booking → 404.",
        security,
        params: bookingIdParams,
        body: cancelBookingBody,
        response: { 200: cancelBookingResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Booking cancelled successfully',
        await service.cancel(caller(request), request.params.bookingId, request.body),
      ),
  );

  app.get(
    '/:bookingId/refunds',
    {
      preValidation: signedIn,
      schema: {
        tags: ['Bookings'],
        summary: "The booking's refunds (owner or admin)",
        description: "Oldest first. Someone else's booking → 404.",
        security,
        params: bookingIdParams,
        response: { 200: bookingRefundsResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Refunds retrieved successfully',
        await service.refundsOfBooking(caller(request), request.params.bookingId),
      ),
  );
};
