import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { flatListSchema, ok, successSchema } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import {
  departureIdParams,
  entryIdParams,
  joinWaitlistBody,
  waitlistEntrySchema,
  waitlistListQuery,
} from './schemas.js';
import type { WaitlistService } from './service.js';

const tags = ['Waitlists'];

/** Waitlists under /api/v1: a departure's list under /departures/:id/waitlist, one's own under /waitlist. */
export const waitlistRoutes: FastifyPluginAsyncZod<{ waitlists: WaitlistService; guard: AuthGuard }> = async (
  app,
  { waitlists, guard },
) => {
  const signedIn = guard.requireAuth();
  const admin = guard.requireAuth('ADMIN', 'SUPER_ADMIN');

  app.post(
    '/departures/:id/waitlist',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: "Join a departure's waitlist",
        description:
          'Needs phone and address on the profile (400). Only when the departure has fewer available seats than ' +
          '`guestCount`: with enough seats now → 409 (book instead); already waiting on it, or the departure ' +
          'closed, cancelled or started → 409. An account waits as it may hold: `guestCount` up to ' +
          'MAX_HELD_SEATS_PER_USER (400), and at most MAX_ACTIVE_HOLDS_PER_USER live entries asking for ' +
          'MAX_HELD_SEATS_PER_USER seats in all (409). When seats come free, the first entries that fit (in join ' +
          'order) get an offer: a pending booking holding their seats for WAITLIST_OFFER_HOURS, mailed with its ' +
          'payment link. Seats freed by a cancellation or an expired hold are offered in the same transaction, ' +
          'so nobody else can take them first. Blocked and deleted accounts get no offers.',
        params: departureIdParams,
        body: joinWaitlistBody,
        response: { 201: successSchema(waitlistEntrySchema) },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Joined the waitlist',
        await waitlists.join(caller(request), request.params.id, request.body),
        {
          statusCode: 201,
        },
      ),
  );

  app.get(
    '/departures/:id/waitlist',
    {
      preValidation: admin,
      schema: {
        security,
        tags,
        summary: "A departure's waitlist, in join order",
        description:
          'Every entry (or those of `status`), first joined first, with the position of those waiting.',
        params: departureIdParams,
        querystring: waitlistListQuery,
        response: { 200: flatListSchema(waitlistEntrySchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await waitlists.ofDeparture(request.params.id, request.query);
      return ok(reply, 'Waitlist retrieved', items, { meta });
    },
  );

  app.get(
    '/waitlist/mine',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: 'My waitlist entries',
        description:
          'Newest first, with their status (WAITING, OFFERED, BOOKED, EXPIRED, LEFT), position while waiting ' +
          "and the offer's booking once one was made.",
        querystring: waitlistListQuery,
        response: { 200: flatListSchema(waitlistEntrySchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await waitlists.mine(caller(request), request.query);
      return ok(reply, 'Waitlist entries retrieved', items, { meta });
    },
  );

  app.delete(
    '/waitlist/:id',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: 'Leave a waitlist',
        description:
          "The entry's owner or an admin (others 404). An entry with an offer also cancels the offer's pending " +
          'booking, whose seats go to the next traveller. A booked or expired entry → 409; leaving twice answers ' +
          'the entry as it is.',
        params: entryIdParams,
        response: { 200: successSchema(waitlistEntrySchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Left the waitlist', await waitlists.leave(caller(request), request.params.id)),
  );
};
