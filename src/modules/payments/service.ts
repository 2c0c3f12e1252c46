import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { AppError, conflict, forbidden, notFound, upstreamError } from '../../lib/errors.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import type { Storage } from '../../lib/storage/storage.js';
import type { AuthContext } from '../../plugins/auth-guard.js';
import { lockBookingWithPayment, movePaymentStatus, setBookingStatus } from '../bookings/repo.js';
import { holdSeats, markSeatsHeld, releaseHeldSeats } from '../bookings/seats.js';
import {
  type GatewayVerdict,
  type PaymentGateway,
  VERIFIED_STATUSES,
  withGatewayTimeout,
} from './gateway.js';
import {
  ensureInvoice,
  formatMoney,
  INVOICE_EMAIL_GRACE_MS,
  invoiceEmail,
  invoiceEmailKey,
} from './invoice.js';
import type { InvoiceLinks } from './invoice-links.js';
import { isLocalGateway } from './local-gateway.js';
import { renderLocalGatewayPage } from './local-gateway-page.js';
import * as repo from './repo.js';
import { renderResultPage } from './result-page.js';

export interface PaymentServiceDeps {
  db: Database;
  clock: Clock;
  gateway: PaymentGateway;
  storage: Storage;
  invoiceLinks: InvoiceLinks;
  redirects: Config['paymentRedirects'];
  gatewayTimeoutMs: number;
  events: EventLog;
  /** Told about work that failed after the payment itself was recorded (a job retries it). */
  onBackgroundError?: (err: unknown, what: string) => void;
}

export type RedirectKind = 'success' | 'fail' | 'cancel';

/** What a gateway callback carries. All of it is untrusted: only the gateway's own validation counts. */
export interface CallbackInput {
  tranId?: string;
  valId?: string;
  fields: Record<string, unknown>;
}

type Settlement =
  | { outcome: 'paid' | 'already-paid'; payment: repo.PaymentContext }
  | { outcome: 'rejected'; payment: repo.PaymentContext; reason: string }
  | { outcome: 'unverifiable'; payment: repo.PaymentContext }
  | { outcome: 'unknown' };

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

  function rejectionReason(verdict: GatewayVerdict, payment: repo.PaymentContext): string | undefined {
    if (!VERIFIED_STATUSES.has(verdict.status))
      return `the gateway reports this payment as ${verdict.status || 'unknown'}`;
    if (verdict.tranId !== payment.transactionId)
      return 'the validated payment belongs to another transaction';
    if (verdict.amount !== payment.amountMinor) return 'the paid amount does not match the booking';
    if (verdict.currency !== payment.currency) return 'the paid currency does not match the booking';
    return undefined;
  }

  /**
   * Marks the payment PAID and the booking COMPLETE in one transaction, with the invoice email queued in
   * it. A payment that arrives after its booking expired or was cancelled is still recorded; the seats are
   * held again if any are left, and the booking is flagged for an operator.
   */
  async function confirmPayment(payment: repo.PaymentContext, verdict: GatewayVerdict, kind: string) {
    const now = clock.now();
    return db.transaction(async (tx) => {
      const locked = await lockBookingWithPayment(tx, payment.bookingId);
      if (!locked?.payment) throw notFound('Payment not found');
      const { booking } = locked;
      await repo.recordPaymentEvent(tx, {
        paymentId: payment.paymentId,
        eventKey: `validated:${verdict.valId}`,
        kind,
        outcome: 'PAID',
        payload: { status: verdict.status, tran_id: verdict.tranId, val_id: verdict.valId },
      });
      if (!(await repo.markPaymentPaid(tx, payment.paymentId, verdict, now))) return 'already-paid' as const;

      if (booking.status === 'PENDING') {
        await setBookingStatus(tx, booking.id, 'COMPLETE');
      } else if (booking.status !== 'COMPLETE') {
        const held = booking.seatsHeld || (await holdSeats(tx, booking.tourId, booking.guestCount));
        if (held) {
          if (!booking.seatsHeld) await markSeatsHeld(tx, booking.id);
          await setBookingStatus(tx, booking.id, 'COMPLETE', {
            needsReview: `Paid after the booking was ${booking.status}; its seats were held again`,
          });
        } else {
          await setBookingStatus(tx, booking.id, booking.status, {
            needsReview: `Paid after the booking was ${booking.status} and no seats are left: refund or rebook`,
          });
        }
      }
      const fresh = await repo.findPaymentContext(tx, { paymentId: payment.paymentId });
      await enqueueEmail(tx, invoiceEmail(fresh!));
      await repo.deferEmail(
        tx,
        invoiceEmailKey(payment.paymentId),
        new Date(now.getTime() + INVOICE_EMAIL_GRACE_MS),
      );
      return 'paid' as const;
    });
  }

  /** Verifies a success callback or IPN with the gateway and records the payment when it checks out. */
  async function settle(input: CallbackInput, kind: 'success' | 'ipn'): Promise<Settlement> {
    const payment = input.tranId
      ? await repo.findPaymentContext(db, { transactionId: input.tranId })
      : undefined;
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
        paymentId: payment.paymentId,
        kind,
        outcome: 'REJECTED',
        payload: { ...auditFields(input.fields), reason },
      });
      deps.events(
        'payment.refused',
        { paymentId: payment.paymentId, bookingId: payment.bookingId, via: kind, reason },
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

    const outcome = await confirmPayment(payment, verdict, kind);
    if (outcome === 'paid') {
      deps.events(
        'payment.confirmed',
        {
          paymentId: payment.paymentId,
          bookingId: payment.bookingId,
          amount: toMajor(payment.amountMinor),
          currency: payment.currency,
          via: kind,
        },
        'payment confirmed by the gateway',
      );
      // Outside the transaction. If it fails, the housekeeping job generates the invoice later.
      await ensureInvoice(db, storage, payment.paymentId, clock.now()).catch((err) =>
        deps.onBackgroundError?.(err, 'invoice generation'),
      );
    }
    return { outcome, payment };
  }

  /** fail/cancel callbacks: only an UNPAID payment moves (seats released once); a PAID one never does. */
  async function abort(kind: 'fail' | 'cancel', input: CallbackInput) {
    const payment = input.tranId
      ? await repo.findPaymentContext(db, { transactionId: input.tranId })
      : undefined;
    if (!payment) return undefined;
    let moved = false;
    const status = await db.transaction(async (tx) => {
      const locked = await lockBookingWithPayment(tx, payment.bookingId);
      if (!locked?.payment) return undefined;
      await repo.recordPaymentEvent(tx, {
        paymentId: payment.paymentId,
        eventKey: `${kind}:${payment.paymentId}`,
        kind,
        outcome: locked.payment.status === 'UNPAID' ? kind.toUpperCase() : `IGNORED_${locked.payment.status}`,
        payload: auditFields(input.fields),
      });
      if (locked.payment.status !== 'UNPAID') return locked.payment.status;
      const to = kind === 'fail' ? 'FAILED' : 'CANCELLED';
      await movePaymentStatus(tx, payment.paymentId, ['UNPAID'], to);
      if (locked.booking.status === 'PENDING') {
        await releaseHeldSeats(tx, [locked.booking.id]);
        await setBookingStatus(tx, locked.booking.id, kind === 'fail' ? 'FAILED' : 'CANCEL');
      }
      moved = true;
      return to;
    });
    if (moved) {
      deps.events(
        kind === 'fail' ? 'payment.failed' : 'payment.cancelled',
        { paymentId: payment.paymentId, bookingId: payment.bookingId },
        kind === 'fail' ? 'payment failed at the gateway' : 'payment cancelled at the gateway',
      );
    }
    return { payment, status };
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
  const awaitingConfirmation = (payment: repo.PaymentContext) =>
    redirect(
      'success',
      {
        transactionId: payment.transactionId,
        amount: payment.amountMinor,
        message: 'Payment is being verified; the booking is confirmed once the payment gateway confirms it',
      },
      'pending',
    );

  return {
    /** A new gateway session for the caller's own pending, unpaid and unexpired booking. */
    async initPayment(who: AuthContext, bookingId: string) {
      const row = await repo.findBookingWithPayment(db, bookingId);
      if (!row || row.booking.userId !== who.userId) throw notFound('Booking not found');
      const { booking, payment } = row;
      if (!payment || booking.status !== 'PENDING' || payment.status !== 'UNPAID') {
        throw conflict(
          `This booking is not awaiting payment (booking ${booking.status}, payment ${payment?.status ?? 'missing'})`,
        );
      }
      if (booking.holdExpiresAt <= clock.now()) {
        throw conflict('The hold on this booking has expired; please book again');
      }
      const context = await repo.findPaymentContext(db, { paymentId: payment.id });
      try {
        return await withGatewayTimeout(
          gateway.createSession({
            transactionId: payment.transactionId,
            amountMinor: payment.amountMinor,
            currency: payment.currency,
            customer: {
              name: context!.userName,
              email: context!.userEmail,
              phone: context!.userPhone ?? '',
              address: context!.userAddress ?? '',
            },
            productName: context!.tourTitle,
          }),
          deps.gatewayTimeoutMs,
        );
      } catch {
        throw upstreamError('The payment gateway did not respond. Please try again in a moment.');
      }
    },

    /** Browser return from the gateway: settle, then the front-end URL to redirect to. */
    async handleReturn(kind: RedirectKind, input: CallbackInput): Promise<string> {
      if (kind !== 'success') {
        const result = await abort(kind, input);
        if (!result) return redirect('fail', { transactionId: input.tranId, message: 'Unknown transaction' });
        const { payment, status } = result;
        const base = { transactionId: payment.transactionId, amount: payment.amountMinor };
        if (status === 'PAID' || status === 'REFUNDED') {
          return redirect('success', { ...base, message: 'Payment was already completed' });
        }
        return redirect(kind, { ...base, message: kind === 'fail' ? 'Payment Failed' : 'Payment Cancelled' });
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
          return redirect('success', {
            transactionId: settled.payment.transactionId,
            amount: settled.payment.amountMinor,
            message: 'Payment Completed Successfully',
          });
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
      if (payment.paymentStatus !== 'PAID' && payment.paymentStatus !== 'REFUNDED') {
        throw conflict(`No invoice: the payment is ${payment.paymentStatus}`);
      }
      await ensureInvoice(db, storage, paymentId, clock.now());
      return invoiceLinks.url(paymentId, clock.now());
    },

    async downloadInvoice(paymentId: string, expires: number, signature: string) {
      if (!invoiceLinks.verify(paymentId, expires, signature, clock.now())) {
        throw forbidden('This download link is invalid or has expired');
      }
      const pdf = await ensureInvoice(db, storage, paymentId, clock.now());
      if (!pdf) throw notFound('Invoice not found');
      const payment = await repo.findPaymentContext(db, { paymentId });
      return { pdf, filename: `invoice-${payment?.transactionId ?? paymentId}.pdf` };
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

    /** The built-in gateway's payment page; undefined when another gateway is in use or the id is unknown. */
    async localGatewayPage(transactionId: string): Promise<string | undefined> {
      if (!isLocalGateway(gateway)) return undefined;
      const payment = await repo.findPaymentContext(db, { transactionId });
      if (!payment) return undefined;
      const payable =
        payment.paymentStatus === 'UNPAID' &&
        payment.bookingStatus === 'PENDING' &&
        payment.holdExpiresAt > clock.now();
      return renderLocalGatewayPage({
        transactionId: payment.transactionId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        tourTitle: payment.tourTitle,
        guestCount: payment.guestCount,
        status: payable ? undefined : `${payment.paymentStatus} (booking ${payment.bookingStatus})`,
        valId: gateway.mintValId(payment.transactionId, payment.amountMinor, payment.currency),
      });
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
