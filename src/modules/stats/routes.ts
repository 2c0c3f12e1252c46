import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ok, successSchema } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import {
  bookingStatsSchema,
  paymentStatsSchema,
  periodQuerySchema,
  tourStatsQuerySchema,
  tourStatsSchema,
  userStatsSchema,
} from './schemas.js';
import type { StatsService } from './service.js';

/** Which bookings the per-tour counts include; said in the descriptions of both routes that show them. */
const COUNTING_BOOKINGS =
  'Highest booked tours and bookings per tour count only bookings that hold or bought seats ' +
  '(PENDING and COMPLETE); CANCEL and FAILED bookings do not count.';

export const statsRoutes: FastifyPluginAsyncZod<{ stats: StatsService; guard: AuthGuard }> = async (
  app,
  { stats, guard },
) => {
  const adminOnly = guard.requireAuth('ADMIN', 'SUPER_ADMIN');

  app.get(
    '/user',
    {
      preValidation: adminOnly,
      schema: {
        security,
        tags: ['Stats'],
        summary: 'User statistics',
        description:
          'Counts exclude deleted users (reported apart as totalDeletedUsers). New-user windows are the ' +
          'last 7 and 30 days (rolling, from the time of the request). usersByRole lists every role.',
        response: { 200: successSchema(userStatsSchema) },
      },
    },
    async (_request, reply) => ok(reply, 'User stats fetched successfully', await stats.userStats()),
  );

  app.get(
    '/tour',
    {
      preValidation: adminOnly,
      schema: {
        security,
        tags: ['Stats'],
        summary: 'Tour statistics',
        description:
          'avgTourCost averages the price per guest of tours that have one (major units). Every tour type ' +
          `and division is listed, zero included. totalHighestBookedTour is the top 5. ${COUNTING_BOOKINGS} ` +
          'upcomingTourOccupancy: the soonest tours starting after now, seats sold (COMPLETE) over capacity.',
        querystring: tourStatsQuerySchema,
        response: { 200: successSchema(tourStatsSchema) },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Tour stats fetched successfully',
        await stats.tourStats({ upcomingLimit: request.query.upcomingLimit }),
      ),
  );

  app.get(
    '/booking',
    {
      preValidation: adminOnly,
      schema: {
        security,
        tags: ['Stats'],
        summary: 'Booking statistics',
        description:
          `bookingsPerTour is the top 10. ${COUNTING_BOOKINGS} Totals, statuses, the average guest count and ` +
          'unique users cover every booking (deleted users included: their bookings happened). Windows ' +
          'are the last 7 and 30 days (rolling); bookingsPerDay lists every UTC day of the period, today ' +
          'included, zeros included. Conversion = COMPLETE (paid) bookings / bookings created.',
        querystring: periodQuerySchema,
        response: { 200: successSchema(bookingStatsSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Booking stats fetched successfully', await stats.bookingStats({ days: request.query.days })),
  );

  app.get(
    '/payment',
    {
      preValidation: adminOnly,
      schema: {
        security,
        tags: ['Stats'],
        summary: 'Payment statistics',
        description:
          'totalRevenue and avgPaymentAmount count PAID payments only, in major units (BDT). ' +
          'paymentGatewayData groups every payment by the status the gateway reported ("UNKNOWN" when ' +
          'none). revenuePerDay lists every UTC day of the period by payment date, zeros included.',
        querystring: periodQuerySchema,
        response: { 200: successSchema(paymentStatsSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Payment stats fetched successfully', await stats.paymentStats({ days: request.query.days })),
  );
};
