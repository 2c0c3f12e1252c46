import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { nestedListSchema, ok, successSchema } from '../../lib/envelope.js';
import { listQuerySchema } from '../../lib/list-query.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { idParam, refundSchema } from '../bookings/schemas.js';
import type { RefundService } from './refunds.js';

const refundIdParams = z.object({ id: idParam('id') });
const refundListQuery = listQuerySchema(['status', 'booking']);

/** Refunds for operators, under /refunds. A booking's own refunds are at /booking/:bookingId/refunds. */
export const refundRoutes: FastifyPluginAsyncZod<{ refunds: RefundService; guard: AuthGuard }> = async (
  app,
  { refunds, guard },
) => {
  const adminOnly = guard.requireAuth('ADMIN', 'SUPER_ADMIN');

  app.get(
    '/',
    {
      preValidation: adminOnly,
      schema: {
        tags: ['Refunds'],
        summary: 'All refunds (admin), newest first',
        description:
          'Filters `status` (REQUESTED, PROCESSING, REFUNDED, FAILED) and `booking`; sort `createdAt`, ' +
          '`updatedAt`, `amount`. `?status=FAILED` lists what an operator should retry.',
        security,
        querystring: refundListQuery,
        response: { 200: nestedListSchema(refundSchema) },
      },
    },
    async (request, reply) => ok(reply, 'Refunds retrieved successfully', await refunds.list(request.query)),
  );

  app.post(
    '/:id/retry',
    {
      preValidation: adminOnly,
      schema: {
        tags: ['Refunds'],
        summary: 'Try a FAILED refund again (admin)',
        description:
          'The refund goes back to REQUESTED and the worker takes it to the payment gateway again. Only a ' +
          'FAILED refund can be retried (409 otherwise).',
        security,
        params: refundIdParams,
        response: { 200: successSchema(refundSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Refund queued to be tried again', await refunds.retry(request.params.id)),
  );
};
