import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ModuleOptions } from '../../app.js';
import { ok } from '../../lib/envelope.js';
import { notFound } from '../../lib/errors.js';
import { caller } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { createInvoiceLinks } from './invoice-links.js';
import { PAGE_CSP } from './pages.js';
import {
  bookingIdParams,
  callbackBody,
  callbackQuery,
  downloadQuery,
  invoiceUrlResponse,
  ipnResponse,
  paymentIdParams,
  paymentUrlResponse,
  resultParams,
  resultQuery,
  transactionParams,
} from './schemas.js';
import { type CallbackInput, createPaymentService, type RedirectKind } from './service.js';

function callbackInput(
  body: Record<string, unknown> | null | undefined,
  query: { transactionId?: string },
): CallbackInput {
  const fields = body ?? {};
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  return { tranId: text(fields.tran_id) ?? text(query.transactionId), valId: text(fields.val_id), fields };
}

export const paymentRoutes: FastifyPluginAsyncZod<ModuleOptions> = async (app, { ctx }) => {
  const service = createPaymentService({
    db: ctx.db,
    clock: ctx.clock,
    gateway: ctx.gateway,
    storage: ctx.storage,
    invoiceLinks: createInvoiceLinks({
      secret: ctx.config.jwt.accessSecret,
      publicUrl: ctx.config.publicUrl,
    }),
    redirects: ctx.config.paymentRedirects,
    gatewayTimeoutMs: ctx.config.gatewayTimeoutMs,
    events: ctx.events,
    onBackgroundError: (err, what) =>
      app.log.warn({ err }, `${what} failed; the housekeeping job will retry`),
  });

  app.post(
    '/init-payment/:bookingId',
    {
      preValidation: ctx.guard.requireAuth(),
      schema: {
        tags: ['Payments'],
        summary: "Open a new gateway session for the caller's pending, unpaid booking",
        description: 'Owner only (others 404). Paid, cancelled, failed or expired bookings → 409.',
        security,
        params: bookingIdParams,
        response: { 201: paymentUrlResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Payment session created successfully',
        await service.initPayment(caller(request), request.params.bookingId),
        { statusCode: 201 },
      ),
  );

  const returns: { kind: RedirectKind; summary: string }[] = [
    { kind: 'success', summary: 'Gateway return after payment: verified with the gateway, then 302' },
    { kind: 'fail', summary: 'Gateway return after a failed payment: 302 to the fail page' },
    { kind: 'cancel', summary: 'Gateway return after a cancelled payment: 302 to the cancel page' },
  ];
  for (const { kind, summary } of returns) {
    app.post(
      `/${kind}`,
      {
        schema: {
          tags: ['Payments'],
          summary,
          description:
            "Called by the payer's browser (form-encoded, SSLCommerz fields such as `tran_id`, `val_id`; " +
            'legacy query `transactionId`). Nothing in the request is trusted: a payment is recorded only ' +
            "after the gateway's validation API confirms status VALID/VALIDATED, the transaction id, the " +
            'exact amount and currency. Redirects to the front end with `transactionId, message, amount, ' +
            'status` (amount from our record). Repeats are harmless.',
          body: callbackBody,
          querystring: callbackQuery,
        },
      },
      async (request, reply) => {
        const location = await service.handleReturn(kind, callbackInput(request.body, request.query));
        return reply.redirect(location, 302);
      },
    );
  }

  app.post(
    '/validate-payment',
    {
      schema: {
        tags: ['Payments'],
        summary: 'Gateway IPN (server to server): verify and record the payment',
        description:
          'Same verification as the success return. Unknown transaction → 404; not verified → 400 ' +
          'PAYMENT_NOT_VERIFIED; gateway unreachable → 502 (the gateway retries). Repeats are harmless.',
        body: callbackBody,
        querystring: callbackQuery,
        response: { 200: ipnResponse },
      },
    },
    async (request, reply) => {
      await service.handleIpn(callbackInput(request.body, request.query));
      return ok(reply, 'Payment Validated Successfully', null);
    },
  );

  app.get(
    '/invoice/:paymentId',
    {
      preValidation: ctx.guard.requireAuth(),
      schema: {
        tags: ['Payments'],
        summary: 'Invoice download URL (owner or admin)',
        description:
          "`data` is a signed link valid for 15 minutes. Someone else's payment → 404; unpaid → 409.",
        security,
        params: paymentIdParams,
        response: { 200: invoiceUrlResponse },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Invoice download URL retrieved successfully',
        await service.invoiceUrl(caller(request), request.params.paymentId),
      ),
  );

  app.get(
    '/invoice/:paymentId/download',
    {
      schema: {
        tags: ['Payments'],
        summary: 'Download an invoice PDF through a signed link',
        params: paymentIdParams,
        querystring: downloadQuery,
      },
    },
    async (request, reply) => {
      const { expires, signature } = request.query;
      const { pdf, filename } = await service.downloadInvoice(request.params.paymentId, expires, signature);
      reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('cache-control', 'private, no-store');
      return reply.send(pdf);
    },
  );

  app.get(
    '/local-gateway/:transactionId',
    {
      schema: {
        tags: ['Payments'],
        summary: 'Payment page of the built-in local gateway (only when SSLCommerz is not configured)',
        params: transactionParams,
      },
    },
    async (request, reply) => {
      const page = await service.localGatewayPage(request.params.transactionId);
      if (!page) throw notFound('Payment not found');
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', PAGE_CSP);
      return reply.send(page);
    },
  );

  app.get(
    '/result/:kind',
    {
      schema: {
        tags: ['Payments'],
        summary: 'Where the payer lands after the gateway when FRONTEND_URL is not set',
        description:
          'A small HTML page: the payment as recorded (status, amount, tour) and the message the redirect ' +
          'carried. With FRONTEND_URL set, the gateway returns redirect to the front end instead.',
        params: resultParams,
        querystring: resultQuery,
      },
    },
    async (request, reply) => {
      const page = await service.resultPage(request.params.kind, request.query);
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', PAGE_CSP);
      return reply.send(page);
    },
  );
};
