import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { AppError, conflict, forbidden, notFound, upstreamError } from '../../lib/errors.js';
import { toMajor } from '../../lib/money.js';
import type { Storage } from '../../lib/storage/storage.js';
import { PENDING } from '../bookings/state.js';
import type { PaymentGateway } from './gateway.js';
import { ensureInvoiceFor, formatMoney } from './invoice.js';
import type { InvoiceLinks } from './invoice-links.js';
import { isLocalGateway } from './local-gateway.js';
import { renderLocalGatewayPage } from './local-gateway-page.js';
import {
  AWAITING_CONFIRMATION,
  duplicateOutcome,
  type Outcome,
  type RedirectKind,
  receivedOutcome,
  unpaidOutcome,
} from './outcome.js';
import { refundsOfPayment } from './refund-repo.js';
import type { RefundService } from './refunds.js';
import * as repo from './repo.js';
import { renderResultPage } from './result-page.js';
import { openPaymentSession, sessionSubjectOf } from './session.js';
import { type CallbackInput, createSettlement } from './settlement.js';
import { UNPAID, wasReceived } from './state.js';

export interface PaymentServiceDeps {
  db: Database;
  clock: Clock;
  gateway: PaymentGateway;
  storage: Storage;
  invoiceLinks: InvoiceLinks;
  redirects: Config['paymentRedirects'];
  gatewayTimeoutMs: number;
  events: EventLog;
  refunds: RefundService;
  /** Told about work that failed after the payment itself was recorded (a job retries it). */
  onBackgroundError?: (err: unknown, what: string) => void;
}

export type { CallbackInput, RedirectKind };

const isAdmin = (who: AuthContext) => who.role === 'ADMIN' || who.role === 'SUPER_ADMIN';

export function createPaymentService(deps: PaymentServiceDeps) {
  const { db, clock, gateway, storage, invoiceLinks } = deps;
  const settlement = createSettlement(deps);

  function redirect(
    kind: RedirectKind,
    query: { transactionId?: string; message: string; amount?: number },
    status: string = kind,
  ) {
    const url = new URL(deps.redirects[kind]);
    url.searchParams.set('transactionId', (query.transactionId ?? '').slice(0, 100));
    url.searchParams.set('message', query.message);
    if (query.amount !== undefined) url.searchParams.set('amount', String(toMajor(query.amount)));
    url.searchParams.set('status', status);
    return url.toString();
  }

  /** The front-end page for an outcome; `transactionId` is the one the gateway came back with. */
  const redirectTo = (outcome: Outcome, transactionId: string, amountMinor: number) =>
    redirect(outcome.kind, { transactionId, amount: amountMinor, message: outcome.message }, outcome.status);

  /** What a payer coming back through `kind` is told about a payment not (yet) recorded as received. */
  const unpaid = (kind: RedirectKind, p: repo.PaymentContext) =>
    unpaidOutcome(kind, {
      paymentStatus: p.paymentStatus,
      bookingStatus: p.bookingStatus,
      holdExpiresAt: p.holdExpiresAt,
      now: clock.now(),
    });

  return {
    /** A new gateway session for the caller's own pending, unpaid and unexpired booking. */
    async initPayment(who: AuthContext, bookingId: string) {
      const payment = await repo.findPaymentContext(db, { bookingId });
      if (!payment || payment.userId !== who.userId) throw notFound('Booking not found');
      if (payment.bookingStatus !== PENDING || payment.paymentStatus !== UNPAID) {
        throw conflict(
          `This booking is not awaiting payment (booking ${payment.bookingStatus}, payment ${payment.paymentStatus})`,
        );
      }
      if (payment.holdExpiresAt <= clock.now()) {
        throw conflict('The hold on this booking has expired; please book again');
      }
      try {
        return await openPaymentSession(db, gateway, deps.gatewayTimeoutMs, sessionSubjectOf(payment));
      } catch {
        throw upstreamError('The payment gateway did not respond. Please try again in a moment.');
      }
    },

    /** Browser return from the gateway: settle, then the front-end URL to redirect to. */
    async handleReturn(kind: RedirectKind, input: CallbackInput): Promise<string> {
      const unknown = () => redirect('fail', { transactionId: input.tranId, message: 'Unknown transaction' });
      if (kind !== 'success') {
        const payment = await settlement.abort(kind, input);
        if (!payment) return unknown();
        const tranId = input.tranId ?? payment.transactionId;
        if (wasReceived(payment.paymentStatus)) {
          const refunds = (await refundsOfPayment(db, payment.paymentId)).filter((r) => !r.duplicateValId);
          const outcome = receivedOutcome(
            { bookingStatus: payment.bookingStatus, refunds },
            'Payment was already completed',
          );
          return redirectTo(outcome, tranId, payment.amountMinor);
        }
        return redirectTo(unpaid(kind, payment), tranId, payment.amountMinor);
      }
      const settled = await settlement.settle(input, 'success');
      if (settled.outcome === 'unknown') return unknown();
      const { payment } = settled;
      const tranId = input.tranId ?? payment.transactionId;
      switch (settled.outcome) {
        case 'unverifiable':
          return redirectTo(AWAITING_CONFIRMATION, tranId, payment.amountMinor);
        case 'rejected':
          // A return without a validation id proves nothing either way: the gateway's IPN may still confirm it.
          if (!input.valId) return redirectTo(AWAITING_CONFIRMATION, tranId, payment.amountMinor);
          return redirect('fail', {
            transactionId: tranId,
            amount: payment.amountMinor,
            message: `Payment not verified: ${settled.reason}`,
          });
        default:
          return redirectTo(settled.result, tranId, payment.amountMinor);
      }
    },

    /** Server-to-server notification: the same verification as the browser return. */
    async handleIpn(input: CallbackInput): Promise<void> {
      const settled = await settlement.settle(input, 'ipn');
      if (settled.outcome === 'unknown') throw notFound('Unknown transaction');
      if (settled.outcome === 'unverifiable') throw upstreamError('The payment gateway could not be reached');
      if (settled.outcome === 'rejected') {
        throw new AppError(400, 'PAYMENT_NOT_VERIFIED', `Payment not verified: ${settled.reason}`, [
          { path: 'val_id', message: settled.reason },
        ]);
      }
    },

    /** A short-lived download link for the invoice of a paid payment (owner or admin; others 404). */
    async invoiceUrl(who: AuthContext, paymentId: string): Promise<string> {
      const payment = await repo.findPaymentContext(db, { paymentId });
      if (!payment || (!isAdmin(who) && payment.userId !== who.userId)) throw notFound('Payment not found');
      if (!wasReceived(payment.paymentStatus)) {
        throw conflict(`No invoice: the payment is ${payment.paymentStatus}`);
      }
      await ensureInvoiceFor(db, storage, payment, clock.now());
      return invoiceLinks.url(paymentId, clock.now());
    },

    async downloadInvoice(paymentId: string, expires: number, signature: string) {
      if (!invoiceLinks.verify(paymentId, expires, signature, clock.now())) {
        throw forbidden('This download link is invalid or has expired');
      }
      const payment = await repo.findPaymentContext(db, { paymentId });
      const pdf = payment && (await ensureInvoiceFor(db, storage, payment, clock.now()));
      if (!pdf) throw notFound('Invoice not found');
      return { pdf, filename: `invoice-${payment.transactionId}.pdf` };
    },

    /**
     * The page a payer lands on after the gateway when no front end is configured: the payment named by the
     * link's transaction id, as recorded (nothing else of the link is shown).
     */
    async resultPage(kind: RedirectKind, query: { transactionId?: string }): Promise<string> {
      const tranId = query.transactionId;
      const payment = tranId ? await repo.findPaymentContext(db, { transactionId: tranId }) : undefined;
      if (!tranId || !payment) return renderResultPage({});
      let outcome: Outcome;
      if (wasReceived(payment.paymentStatus)) {
        const refunds = await refundsOfPayment(db, payment.paymentId);
        // A second payment made through this session: the page is about that one.
        const duplicate = refunds.find((r) => r.duplicateTranId === tranId);
        outcome = duplicate
          ? duplicateOutcome(duplicate)
          : receivedOutcome({
              bookingStatus: payment.bookingStatus,
              refunds: refunds.filter((r) => !r.duplicateValId),
            });
      } else {
        outcome = unpaid(kind, payment);
      }
      return renderResultPage({
        outcome,
        paymentStatus: payment.paymentStatus,
        transactionId: tranId,
        tourTitle: payment.tourTitle,
        amount: formatMoney(payment.amountMinor, payment.currency),
      });
    },

    /**
     * The built-in gateway's payment page, for the signed link handed to the booking's owner; undefined when
     * another gateway is in use, the id is unknown or the link's signature is wrong.
     */
    async localGatewayPage(
      transactionId: string,
      signature: string | undefined,
    ): Promise<string | undefined> {
      if (!isLocalGateway(gateway)) return undefined;
      if (!signature || !gateway.verifyPageLink(transactionId, signature)) return undefined;
      const payment = await repo.findPaymentContext(db, { transactionId });
      if (!payment) return undefined;
      const payable =
        payment.paymentStatus === UNPAID &&
        payment.bookingStatus === PENDING &&
        payment.holdExpiresAt > clock.now();
      // Everything the page posts names this session (the link's transaction id); a val_id is only handed
      // out while the booking can be paid, and counts once.
      return renderLocalGatewayPage({
        transactionId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        tourTitle: payment.tourTitle,
        guestCount: payment.guestCount,
        payment: payable
          ? {
              valId: gateway.mintValId(transactionId, payment.amountMinor, payment.currency),
              abortSignatures: {
                fail: gateway.signAbort('fail', transactionId),
                cancel: gateway.signAbort('cancel', transactionId),
              },
            }
          : { status: `${payment.paymentStatus} (booking ${payment.bookingStatus})` },
      });
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
