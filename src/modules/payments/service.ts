import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { AppError, conflict, forbidden, notFound, upstreamError } from '../../lib/errors.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import type { Storage } from '../../lib/storage/storage.js';
import {
  confirmPaid,
  type LockedBooking,
  type PaidBooking,
  paidBookingOf,
  releaseHold,
} from '../bookings/lifecycle.js';
import { ENDED_UNPAID, PENDING } from '../bookings/state.js';
import {
  type GatewayVerdict,
  type PaymentGateway,
  VERIFIED_STATUSES,
  withGatewayTimeout,
} from './gateway.js';
import { ensureInvoiceFor, formatMoney, queueInvoiceEmail } from './invoice.js';
import type { InvoiceLinks } from './invoice-links.js';
import { isLocalGateway } from './local-gateway.js';
import { renderLocalGatewayPage } from './local-gateway-page.js';
import { paymentUnderReviewEmail } from './payment-emails.js';
import { type RefundService, toRefundView } from './refunds.js';
import * as repo from './repo.js';
import { type RedirectKind, renderResultPage } from './result-page.js';
import { openPaymentSession, sessionSubjectOf } from './session.js';
import { canMovePayment, ENDED_WITH_BOOKING, PAID, UNPAID, wasReceived } from './state.js';

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

export type { RedirectKind };

/** What a gateway callback carries. All of it is untrusted: only the gateway's own validation counts. */
export interface CallbackInput {
  tranId?: string;
  valId?: string;
  fields: Record<string, unknown>;
}

const UNDER_REVIEW_MESSAGE =
  'Payment received and under review; your seats are kept and we will email you when the review is done';
const NOT_CONFIRMED_MESSAGE =
  'Payment was received but the booking could not be confirmed: it was no longer held and its seats are gone, ' +
  'so the full amount is being refunded automatically';

/** The refund of a payment that arrived for a booking no longer waiting for it, whose seats are gone. */
const LATE_PAYMENT_REASON = 'late payment: the booking was no longer held and its seats were gone';

type Settlement =
  | { outcome: 'paid'; payment: repo.PaymentRow; booking: PaidBooking; newlyPaid: boolean }
  | { outcome: 'rejected'; payment: repo.PaymentRow; reason: string }
  | { outcome: 'unverifiable'; payment: repo.PaymentRow }
  | { outcome: 'unknown' };

/** The booking of a locked payment context, as the bookings lifecycle takes it. */
const bookingOf = (p: repo.PaymentContext): LockedBooking => ({
  id: p.bookingId,
  tourId: p.tourId,
  departureId: p.departureId,
  status: p.bookingStatus,
  guestCount: p.guestCount,
  seatsHeld: p.seatsHeld,
});

const isAdmin = (who: AuthContext) => who.role === 'ADMIN' || who.role === 'SUPER_ADMIN';

/** The callback fields worth keeping for an audit trail (never the whole, attacker-sized body). */
function auditFields(fields: Record<string, unknown>): Record<string, unknown> {
  const keep = ['tran_id', 'val_id', 'amount', 'currency', 'status', 'bank_tran_id', 'card_type', 'error'];
  const out: Record<string, unknown> = {};
  for (const k of keep) if (typeof fields[k] === 'string') out[k] = (fields[k] as string).slice(0, 200);
  return out;
}

export function createPaymentService(deps: PaymentServiceDeps) {
  const { db, clock, gateway, storage, invoiceLinks } = deps;

  function rejectionReason(verdict: GatewayVerdict, payment: repo.PaymentRow): string | undefined {
    if (!VERIFIED_STATUSES.has(verdict.status))
      return `the gateway reports this payment as ${verdict.status || 'unknown'}`;
    if (verdict.tranId !== payment.transactionId)
      return 'the validated payment belongs to another transaction';
    if (verdict.amount !== payment.amountMinor) return 'the paid amount does not match the booking';
    if (verdict.currency !== payment.currency) return 'the paid currency does not match the booking';
    return undefined;
  }

  /**
   * Marks the payment PAID and places its booking in one transaction, with the customer's email queued in
   * it: the invoice only for a confirmed booking. A payment that arrives after its booking expired or was
   * cancelled is still recorded, never lost. The context is read once, locked, and handed on (to the
   * invoice after the commit too).
   */
  async function confirmPayment(paymentId: string, verdict: GatewayVerdict, kind: string) {
    const now = clock.now();
    return db.transaction(async (tx) => {
      const locked = await repo.lockPaymentContext(tx, paymentId);
      if (!locked) throw notFound('Payment not found');
      await repo.recordPaymentEvent(tx, {
        paymentId,
        eventKey: `validated:${verdict.valId}`,
        kind,
        outcome: PAID,
        payload: {
          status: verdict.status,
          tran_id: verdict.tranId,
          val_id: verdict.valId,
          ...(verdict.risky ? { risk_level: '1' } : {}),
        },
      });
      const paid = await repo.markPaymentPaid(tx, paymentId, verdict, now);
      if (!paid) return { newlyPaid: false, booking: paidBookingOf(locked.bookingStatus) } as const;
      const payment = { ...locked, ...paid };
      const placed = await confirmPaid(tx, bookingOf(locked), { risky: verdict.risky });
      if (placed === 'confirmed') await queueInvoiceEmail(tx, payment, now);
      if (placed === 'under-review') await enqueueEmail(tx, paymentUnderReviewEmail(payment));
      // Recorded, never lost, and given back whole: the customer's mail is the refund's.
      const refund =
        placed === 'not-confirmed'
          ? await deps.refunds.issue(tx, {
              bookingId: locked.bookingId,
              amountMinor: locked.amountMinor,
              reason: LATE_PAYMENT_REASON,
              requestedBy: null,
              cancelled: false,
            })
          : undefined;
      return { newlyPaid: true, booking: placed, payment, refund } as const;
    });
  }

  /** Verifies a success callback or IPN with the gateway and records the payment when it checks out. */
  async function settle(input: CallbackInput, kind: 'success' | 'ipn'): Promise<Settlement> {
    const payment = input.tranId ? await repo.findPaymentByTransactionId(db, input.tranId) : undefined;
    if (!payment) {
      await repo.recordPaymentEvent(db, {
        paymentId: null,
        kind,
        outcome: 'UNKNOWN_TRANSACTION',
        payload: auditFields(input.fields),
      });
      return { outcome: 'unknown' };
    }
    const reject = async (reason: string): Promise<Settlement> => {
      await repo.recordPaymentEvent(db, {
        paymentId: payment.id,
        kind,
        outcome: 'REJECTED',
        payload: { ...auditFields(input.fields), reason },
      });
      deps.events(
        'payment.refused',
        { paymentId: payment.id, bookingId: payment.bookingId, via: kind, reason },
        `payment refused: ${reason}`,
      );
      return { outcome: 'rejected', payment, reason };
    };
    if (!input.valId) return reject('the callback carries no validation id');
    let verdict: GatewayVerdict;
    try {
      verdict = await withGatewayTimeout(gateway.validate(input.valId), deps.gatewayTimeoutMs);
    } catch {
      return { outcome: 'unverifiable', payment };
    }
    const reason = rejectionReason(verdict, payment);
    if (reason) return reject(reason);

    const confirmed = await confirmPayment(payment.id, verdict, kind);
    if (confirmed.newlyPaid && confirmed.refund) deps.refunds.announce(toRefundView(confirmed.refund));
    if (confirmed.newlyPaid) {
      deps.events(
        'payment.confirmed',
        {
          paymentId: payment.id,
          bookingId: payment.bookingId,
          amount: toMajor(payment.amountMinor),
          currency: payment.currency,
          via: kind,
        },
        'payment confirmed by the gateway',
      );
      // Outside the transaction. If it fails, the housekeeping job generates the invoice later.
      await ensureInvoiceFor(db, storage, confirmed.payment, clock.now()).catch((err) =>
        deps.onBackgroundError?.(err, 'invoice generation'),
      );
    }
    return { outcome: 'paid', payment, booking: confirmed.booking, newlyPaid: confirmed.newlyPaid };
  }

  /** Whether the gateway confirms a fail/cancel return; a gateway that cannot be reached confirms nothing. */
  async function gatewayConfirmsAbort(
    kind: 'fail' | 'cancel',
    tranId: string,
    fields: Record<string, unknown>,
  ) {
    try {
      return await withGatewayTimeout(gateway.confirmsAbort({ kind, tranId, fields }), deps.gatewayTimeoutMs);
    } catch {
      return false;
    }
  }

  /**
   * fail/cancel callbacks. Anyone can post one, so only an UNPAID payment moves (seats released once), and
   * only when the gateway confirms the claim; otherwise nothing changes and the hold runs out as usual.
   */
  async function abort(kind: 'fail' | 'cancel', input: CallbackInput) {
    const payment = input.tranId ? await repo.findPaymentByTransactionId(db, input.tranId) : undefined;
    if (!payment) return undefined;
    const ended = ENDED_UNPAID[kind];
    const to = ENDED_WITH_BOOKING[ended];
    // Asked before the transaction (no network call inside one); the locked row is checked again below.
    const confirmed =
      canMovePayment(payment.status, to) &&
      (await gatewayConfirmsAbort(kind, payment.transactionId, input.fields));
    const result = await db.transaction(async (tx) => {
      const locked = await repo.lockPaymentContext(tx, payment.id);
      if (!locked) return undefined;
      const current = locked.paymentStatus;
      const movable = canMovePayment(current, to);
      const moves = movable && confirmed;
      await repo.recordPaymentEvent(tx, {
        paymentId: payment.id,
        // Unconfirmed claims get a key each, so a forged one cannot stand in for the genuine one later.
        eventKey: moves || !movable ? `${kind}:${payment.id}` : undefined,
        kind,
        outcome: !movable ? `IGNORED_${current}` : moves ? kind.toUpperCase() : 'UNCONFIRMED',
        payload: auditFields(input.fields),
      });
      if (!moves) return { status: current, bookingStatus: locked.bookingStatus };
      await repo.movePaymentsOfBookings(tx, [locked.bookingId], to);
      await releaseHold(tx, bookingOf(locked), ended);
      return { status: to, bookingStatus: locked.bookingStatus, moved: true };
    });
    if (result?.moved) {
      deps.events(
        kind === 'fail' ? 'payment.failed' : 'payment.cancelled',
        { paymentId: payment.id, bookingId: payment.bookingId },
        kind === 'fail' ? 'payment failed at the gateway' : 'payment cancelled at the gateway',
      );
    }
    return result && { payment, status: result.status, bookingStatus: result.bookingStatus };
  }

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

  /**
   * The browser came back through the success URL but the gateway has not confirmed the payment (yet): the
   * front end's success page, with `status=pending` and a message saying nothing is confirmed.
   */
  const awaitingConfirmation = (payment: repo.PaymentRow) =>
    redirect(
      'success',
      {
        transactionId: payment.transactionId,
        amount: payment.amountMinor,
        message: 'Payment is being verified; the booking is confirmed once the payment gateway confirms it',
      },
      'pending',
    );

  /** Where the browser goes for a PAID payment: the success page only says "completed" for a COMPLETE booking. */
  function paidRedirect(payment: repo.PaymentRow, booking: PaidBooking, completedMessage: string) {
    const base = { transactionId: payment.transactionId, amount: payment.amountMinor };
    if (booking === 'confirmed') return redirect('success', { ...base, message: completedMessage });
    if (booking === 'under-review')
      return redirect('success', { ...base, message: UNDER_REVIEW_MESSAGE }, 'pending');
    return redirect('fail', { ...base, message: NOT_CONFIRMED_MESSAGE });
  }

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
        return await openPaymentSession(gateway, deps.gatewayTimeoutMs, sessionSubjectOf(payment));
      } catch {
        throw upstreamError('The payment gateway did not respond. Please try again in a moment.');
      }
    },

    /** Browser return from the gateway: settle, then the front-end URL to redirect to. */
    async handleReturn(kind: RedirectKind, input: CallbackInput): Promise<string> {
      if (kind !== 'success') {
        const result = await abort(kind, input);
        if (!result) return redirect('fail', { transactionId: input.tranId, message: 'Unknown transaction' });
        const { payment, status, bookingStatus } = result;
        if (wasReceived(status)) {
          return paidRedirect(payment, paidBookingOf(bookingStatus), 'Payment was already completed');
        }
        return redirect(kind, {
          transactionId: payment.transactionId,
          amount: payment.amountMinor,
          message: kind === 'fail' ? 'Payment Failed' : 'Payment Cancelled',
        });
      }
      const settled = await settle(input, 'success');
      switch (settled.outcome) {
        case 'unknown':
          return redirect('fail', { transactionId: input.tranId, message: 'Unknown transaction' });
        case 'unverifiable':
          return awaitingConfirmation(settled.payment);
        case 'rejected':
          // A return without a validation id proves nothing either way: the gateway's IPN may still confirm it.
          if (!input.valId) return awaitingConfirmation(settled.payment);
          return redirect('fail', {
            transactionId: settled.payment.transactionId,
            amount: settled.payment.amountMinor,
            message: `Payment not verified: ${settled.reason}`,
          });
        default:
          return paidRedirect(settled.payment, settled.booking, 'Payment Completed Successfully');
      }
    },

    /** Server-to-server notification: the same verification as the browser return. */
    async handleIpn(input: CallbackInput): Promise<void> {
      const settled = await settle(input, 'ipn');
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

    /** The page a payer lands on after the gateway when no front end is configured. */
    async resultPage(
      kind: RedirectKind,
      query: { transactionId?: string; message?: string },
    ): Promise<string> {
      const payment = query.transactionId
        ? await repo.findPaymentContext(db, { transactionId: query.transactionId })
        : undefined;
      return renderResultPage({
        kind,
        paymentStatus: payment?.paymentStatus,
        unknownTransaction: Boolean(query.transactionId) && !payment,
        message: query.message,
        transactionId: payment?.transactionId ?? query.transactionId,
        tourTitle: payment?.tourTitle,
        amount: payment && formatMoney(payment.amountMinor, payment.currency),
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
      return renderLocalGatewayPage({
        transactionId: payment.transactionId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        tourTitle: payment.tourTitle,
        guestCount: payment.guestCount,
        status: payable ? undefined : `${payment.paymentStatus} (booking ${payment.bookingStatus})`,
        valId: gateway.mintValId(payment.transactionId, payment.amountMinor, payment.currency),
        abortSignatures: {
          fail: gateway.signAbort('fail', payment.transactionId),
          cancel: gateway.signAbort('cancel', payment.transactionId),
        },
      });
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
