import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { flatListSchema, ok, successSchema } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import {
  cancelDepartureBody,
  createDeparturesBody,
  departureIdParams,
  departureListQuery,
  departureSchema,
  MAX_DEPARTURES_PER_REQUEST,
  tourIdParams,
  updateDepartureBody,
} from './schemas.js';
import type { DepartureService } from './service.js';

const tags = ['Departures'];

/** Departures under /api/v1: a tour's list and scheduling under /tour/:tourId, one departure under /departures/:id. */
export const departureRoutes: FastifyPluginAsyncZod<{
  departures: DepartureService;
  guard: AuthGuard;
}> = async (app, { departures, guard }) => {
  const admin = guard.requireAuth('ADMIN', 'SUPER_ADMIN');

  app.get(
    '/tour/:tourId/departures',
    {
      schema: {
        tags,
        summary: "A tour's departures",
        description:
          'Default: upcoming SCHEDULED departures, soonest first. `from`/`to` (ISO dates; `to` as a date alone ' +
          'includes that day) bound the start; `status` picks SCHEDULED, CLOSED or CANCELLED. Unknown tour → 404.',
        params: tourIdParams,
        querystring: departureListQuery,
        response: { 200: flatListSchema(departureSchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await departures.list(request.params.tourId, request.query);
      return ok(reply, 'Departures retrieved', items, { meta });
    },
  );

  app.post(
    '/tour/:tourId/departures',
    {
      preValidation: admin,
      schema: {
        security,
        tags,
        summary: 'Schedule departures of a tour',
        description:
          `One departure, or \`{departures: [...]}\` (up to ${MAX_DEPARTURES_PER_REQUEST}) created together or not ` +
          "at all. Each starts in the future and ends no earlier; `capacity` 1..1000 (default the tour's " +
          "maxGuest); `price` per guest (default the tour's costFrom); `guide` a user with the GUIDE role. Two " +
          'departures of one tour starting at the same instant → 409.',
        params: tourIdParams,
        body: createDeparturesBody,
        response: { 201: successSchema(z.array(departureSchema)) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Departures created', await departures.create(request.params.tourId, request.body), {
        statusCode: 201,
      }),
  );

  app.get(
    '/departures/:id',
    {
      schema: {
        tags,
        summary: 'One departure, with its available seats',
        params: departureIdParams,
        response: { 200: successSchema(departureSchema) },
      },
    },
    async (request, reply) => ok(reply, 'Departure retrieved', await departures.get(request.params.id)),
  );

  app.patch(
    '/departures/:id',
    {
      preValidation: admin,
      schema: {
        security,
        tags,
        summary: 'Change a departure',
        description:
          'Dates (a new start must be in the future), `capacity` (never below the booked seats: 409), `price` ' +
          "(new bookings only; null = the tour's costFrom), `status` SCHEDULED or CLOSED (CLOSED takes no new " +
          'bookings), `guide` (a GUIDE user, null unassigns). A cancelled departure cannot be changed (409). ' +
          'Customers with paid bookings are mailed when the dates or the price change.',
        params: departureIdParams,
        body: updateDepartureBody,
        response: { 200: successSchema(departureSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Departure updated', await departures.update(request.params.id, request.body)),
  );

  app.post(
    '/departures/:id/cancel',
    {
      preValidation: admin,
      schema: {
        security,
        tags,
        summary: 'Cancel a departure',
        description:
          'In one transaction: the departure becomes CANCELLED, every pending booking is cancelled (seats ' +
          'released, payment closed), every paid booking is cancelled and refunded in full, and its waitlist ' +
          'is closed; each customer is mailed with the `reason`. Refunds are carried out by the background ' +
          'worker after the answer. Idempotent: a cancelled departure is answered as it is, nothing changed.',
        params: departureIdParams,
        body: cancelDepartureBody,
        response: { 200: successSchema(departureSchema) },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Departure cancelled',
        await departures.cancel(caller(request).userId, request.params.id, request.body.reason),
      ),
  );
};
