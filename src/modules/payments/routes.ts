import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ok } from '../../lib/envelope.js';
import { notFound } from '../../lib/errors.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import { PAGE_CSP } from './pages.js';
import {
  bookingIdParams,
  callbackBody,
  callbackQuery,
  downloadQuery,
  invoiceUrlResponse,
  ipnResponse,
  localGatewayQuery,
  paymentIdParams,
  paymentUrlResponse,
  resultParams,
  resultQuery,
  transactionParams,
} from './schemas.js';
import type { CallbackInput, PaymentService, RedirectKind } from './service.js';

function callbackInput(
  body: Record<string, unknown> | null | undefined,
  query: { transactionId?: string },
): CallbackInput {
  const fields = body ?? {};
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  return { tranId: text(fields.tran_id) ?? text(query.transactionId), valId: text(fields.val_id), fields };
}

export const paymentRoutes: FastifyPluginAsyncZod<{ payments: PaymentService; guard: AuthGuard }> = async (
  app,
  { payments: service, guard },
) => {
  app.post(
    '/init-payment/:bookingId',
    {
      preValidation: guard.requireAuth(),
      schema: {
        tags: ['Payments'],
        summary: "Open a new gateway session for the caller's pending, unpaid booking",
        description:
          'Owner only (others 404). Each session gets a transaction id of its own. Also after a failed or ' +
          'cancelled attempt, while the hold lasts. Paid, cancelled, failed or expired bookings → 409.',
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

  const abortNote =
    ' A failed or cancelled attempt leaves the booking PENDING with its seats held until its hold runs out: ' +
    'the payer can open a new session with init-payment (the message says until when). The attempt is ' +
    'recorded as confirmed only when the gateway confirms it (SSLCommerz: its transaction query API reports ' +
    'the transaction FAILED or CANCELLED; the local gateway: the `signature` its page posted).';
  const returns: { kind: RedirectKind; summary: string; note: string }[] = [
    {
      kind: 'success',
      summary: 'Gateway return after payment: verified with the gateway, then 302',
      note:
        ' A payment the gateway marks risky (risk_level 1) keeps the seats and waits for an admin: the ' +
        'success page gets `status=pending`. A payment for a booking that could not be confirmed (cancelled ' +
        'or expired, seats gone) is recorded and refunded in full automatically, and the browser goes to the ' +
        'fail page with a message saying so. A second validated payment for a booking already paid (another ' +
        'session paid too) is recorded and refunded in full automatically: the success page gets ' +
        '`status=duplicate` and a message saying so. The message always describes what happened to this ' +
        'payment as recorded.',
    },
    {
      kind: 'fail',
      summary: 'Gateway return after a failed payment: 302 to the fail page',
      note: abortNote,
    },
    {
      kind: 'cancel',
      summary: 'Gateway return after a cancelled payment: 302 to the cancel page',
      note: abortNote,
    },
  ];
  for (const { kind, summary, note } of returns) {
    app.post(
      `/${kind}`,
      {
        schema: {
          tags: ['Payments'],
          summary,
          description:
            "Called by the payer's browser (form-encoded, SSLCommerz fields such as `tran_id` (any of the " +
            "booking's sessions), `val_id`; " +
            'legacy query `transactionId`). Nothing in the request is trusted: a payment is recorded only ' +
            "after the gateway's validation API confirms status VALID/VALIDATED, the transaction id, the " +
            'exact amount and currency. Redirects to the front end with `transactionId, message, amount, ' +
            'status` (amount from our record). Repeats are harmless.' +
            note,
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
      preValidation: guard.requireAuth(),
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
        description:
          'Opened through the signed `paymentUrl` given to the booking owner; without its `signature` → 404.',
        params: transactionParams,
        querystring: localGatewayQuery,
      },
    },
    async (request, reply) => {
      const page = await service.localGatewayPage(request.params.transactionId, request.query.signature);
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
          'A small HTML page about the payment the `transactionId` names, all from the record: what happened to ' +
          'it, its status, amount and tour. Nothing else of the link is shown. With FRONTEND_URL set, the ' +
          'gateway returns redirect to the front end instead.',
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
