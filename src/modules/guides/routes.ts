import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { flatListSchema, ok, successSchema } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import { manifestCsv } from './manifest-csv.js';
import {
  bookingIdParams,
  checkInSchema,
  departureIdParams,
  guideDepartureListQuery,
  guideDepartureSchema,
  manifestQuery,
  manifestSchema,
} from './schemas.js';
import type { GuideService } from './service.js';

const tags = ['Guides'];

/** Guides under /api/v1: the guide's own departures, a departure's manifest, and checking travellers in. */
export const guideRoutes: FastifyPluginAsyncZod<{ guides: GuideService; guard: AuthGuard }> = async (
  app,
  { guides, guard },
) => {
  const leaders = guard.requireAuth('GUIDE', 'ADMIN', 'SUPER_ADMIN');

  app.get(
    '/guide/departures',
    {
      preValidation: guard.requireAuth('GUIDE'),
      schema: {
        security,
        tags,
        summary: "The calling guide's departures",
        description:
          'GUIDE only. Departures not yet ended come first, soonest start first; then the past ones, latest ' +
          'first. Each with its tour, booked seats (held and sold), paid bookings and guests, and how many of ' +
          'them have checked in.',
        querystring: guideDepartureListQuery,
        response: { 200: flatListSchema(guideDepartureSchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await guides.myDepartures(caller(request), request.query);
      return ok(reply, 'Your departures retrieved', items, { meta });
    },
  );

  app.get(
    '/departures/:id/manifest',
    {
      preValidation: leaders,
      schema: {
        security,
        tags,
        summary: "A departure's manifest: who is coming",
        description:
          "The departure's paid bookings, by traveller name: booking id, name, phone, email, guests and " +
          "check-in. ADMIN, SUPER_ADMIN or the departure's assigned GUIDE (a guide of another departure → 403). " +
          '`?format=csv` answers the same lines as a `text/csv` attachment with a header row; a cell starting ' +
          'with = + - @ (or a tab or carriage return) is prefixed with a single quote so spreadsheets do not run it.',
        params: departureIdParams,
        querystring: manifestQuery,
        response: {
          200: {
            description: 'The manifest in the success envelope, or with `format=csv` a CSV attachment.',
            content: {
              'application/json': { schema: successSchema(manifestSchema) },
              'text/csv': { schema: z.string() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const manifest = await guides.manifest(caller(request), request.params.id);
      if (request.query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="manifest-${manifest.departure._id}.csv"`)
          .send(manifestCsv(manifest.bookings));
      }
      return ok(reply, 'Manifest retrieved', manifest);
    },
  );

  app.post(
    '/booking/:bookingId/check-in',
    {
      preValidation: leaders,
      schema: {
        security,
        tags,
        summary: 'Check in a paid booking',
        description:
          "The booking's departure's assigned GUIDE, ADMIN or SUPER_ADMIN (a guide of another departure → 403). " +
          'Only a paid booking (409 otherwise), only from 24 hours before the departure starts until it ends ' +
          '(409 otherwise). Checking in again answers 200 with the first check-in and changes nothing.',
        params: bookingIdParams,
        response: { 200: successSchema(checkInSchema) },
      },
    },
    async (request, reply) => {
      const { entry, first } = await guides.checkIn(caller(request), request.params.bookingId);
      return ok(reply, first ? 'Checked in' : 'Already checked in', entry);
    },
  );
};
