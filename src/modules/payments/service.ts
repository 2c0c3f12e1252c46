import type { Config } from '../../config.js';
import type { Database, Executor } from '../../db/client.js';
import type { BookingStatus } from '../../db/schema/index.js';
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
import { ensureInvoice, formatMoney, queueInvoiceEmail } from './invoice.js';
import type { InvoiceLinks } from './invoice-links.js';
import { isLocalGateway } from './local-gateway.js';
import { renderLocalGatewayPage } from './local-gateway-page.js';
import { bookingNotConfirmedEmail, paymentUnderReviewEmail } from './payment-emails.js';
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

/**
 * Where a PAID payment leaves its booking, and so what the customer may be told: only a COMPLETE booking is
 * confirmed; a PENDING one waits for an admin to review the payment; any other was not confirmed.
 */
export type PaidBooking = 'confirmed' | 'under-review' | 'not-confirmed';

export const paidBookingOf = (status: BookingStatus): PaidBooking =>
  status === 'COMPLETE' ? 'confirmed' : status === 'PENDING' ? 'under-review' : 'not-confirmed';

const RISKY_PAYMENT_NOTE =
  'The gateway marked this payment as risky (risk_level 1): approve with status COMPLETE or reject with CANCEL';

const UNDER_REVIEW_MESSAGE =
  'Payment received and under review; your seats are kept and we will email you when the review is done';
const NOT_CONFIRMED_MESSAGE =
  'Payment was received but the booking could not be confirmed; the payment will be reviewed and refunded';

type Settlement =
  | { outcome: 'paid'; payment: repo.PaymentContext; booking: PaidBooking; newlyPaid: boolean }
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
   * Puts the booking of a payment just marked PAID where it belongs. A late payment (the booking expired or
   * was cancelled) takes its seats back if any are left; without seats the booking stays as it was,
   * flagged for a refund. A payment the gateway marks risky keeps the seats but leaves the booking PENDING
   * until an admin approves or rejects it (the hold sweeper leaves such bookings alone).
   */
  async function placePaidBooking(
    tx: Executor,
    booking: { id: string; tourId: string; status: BookingStatus; guestCount: number; seatsHeld: boolean },
    risky: boolean,
  ): Promise<PaidBooking> {
    if (booking.status === 'COMPLETE') return 'confirmed';
    let lateNote: string | undefined;
    if (booking.status !== 'PENDING') {
      const held = booking.seatsHeld || (await holdSeats(tx, booking.tourId, booking.guestCount));
      if (!held) {
        await setBookingStatus(tx, booking.id, booking.status, {
          needsReview: `Paid after the booking was ${booking.status} and no seats are left: refund or rebook`,
        });
        return 'not-confirmed';
      }
      if (!booking.seatsHeld) await markSeatsHeld(tx, booking.id);
      lateNote = `Paid after the booking was ${booking.status}; its seats were held again`;
    }
    if (risky) {
      await setBookingStatus(tx, booking.id, 'PENDING', {
        needsReview: lateNote ? `${lateNote}. ${RISKY_PAYMENT_NOTE}` : RISKY_PAYMENT_NOTE,
      });
      return 'under-review';
    }
    await setBookingStatus(tx, booking.id, 'COMPLETE', lateNote ? { needsReview: lateNote } : {});
    return 'confirmed';
  }

  /**
   * Marks the payment PAID and places its booking in one transaction, with the customer's email queued in
   * it: the invoice only for a confirmed booking. A payment that arrives after its booking expired or was
   * cancelled is still recorded, never lost.
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
        payload: {
          status: verdict.status,
          tran_id: verdict.tranId,
          val_id: verdict.valId,
          ...(verdict.risky ? { risk_level: '1' } : {}),
        },
      });
      if (!(await repo.markPaymentPaid(tx, payment.paymentId, verdict, now))) {
        return { newlyPaid: false, booking: paidBookingOf(booking.status) };
      }
      const placed = await placePaidBooking(tx, booking, verdict.risky);
      if (placed === 'confirmed') {
        await queueInvoiceEmail(tx, payment.paymentId, now);
      } else {
        const fresh = await repo.findPaymentContext(tx, { paymentId: payment.paymentId });
        await enqueueEmail(
          tx,
          placed === 'under-review' ? paymentUnderReviewEmail(fresh!) : bookingNotConfirmedEmail(fresh!),
        );
      }
      return { newlyPaid: true, booking: placed };
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

    const { newlyPaid, booking } = await confirmPayment(payment, verdict, kind);
    if (newlyPaid) {
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
    return { outcome: 'paid', payment, booking, newlyPaid };
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
    const payment = input.tranId
      ? await repo.findPaymentContext(db, { transactionId: input.tranId })
      : undefined;
    if (!payment) return undefined;
    // Asked before the transaction (no network call inside one); the locked row is checked again below.
    const confirmed =
      payment.paymentStatus === 'UNPAID' &&
      (await gatewayConfirmsAbort(kind, payment.transactionId, input.fields));
    const result = await db.transaction(async (tx) => {
      const locked = await lockBookingWithPayment(tx, payment.bookingId);
      if (!locked?.payment) return undefined;
      const current = locked.payment.status;
      const moves = current === 'UNPAID' && confirmed;
      await repo.recordPaymentEvent(tx, {
        paymentId: payment.paymentId,
        // Unconfirmed claims get a key each, so a forged one cannot stand in for the genuine one later.
        eventKey: moves || current !== 'UNPAID' ? `${kind}:${payment.paymentId}` : undefined,
        kind,
        outcome: current !== 'UNPAID' ? `IGNORED_${current}` : moves ? kind.toUpperCase() : 'UNCONFIRMED',
        payload: auditFields(input.fields),
      });
      if (!moves) return { status: current, bookingStatus: locked.booking.status };
      const to = kind === 'fail' ? 'FAILED' : 'CANCELLED';
      await movePaymentStatus(tx, payment.paymentId, ['UNPAID'], to);
      if (locked.booking.status === 'PENDING') {
        await releaseHeldSeats(tx, [locked.booking.id]);
        await setBookingStatus(tx, locked.booking.id, kind === 'fail' ? 'FAILED' : 'CANCEL');
      }
      deps.events(
        kind === 'fail' ? 'payment.failed' : 'payment.cancelled',
        { paymentId: payment.paymentId, bookingId: payment.bookingId },
        kind === 'fail' ? 'payment failed at the gateway' : 'payment cancelled at the gateway',
      );
      return { status: to, bookingStatus: locked.booking.status };
    });
    return result && { payment, ...result };
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

  /** Where the browser goes for a PAID payment: the success page only says "completed" for a COMPLETE booking. */
  function paidRedirect(payment: repo.PaymentContext, booking: PaidBooking, completedMessage: string) {
    const base = { transactionId: payment.transactionId, amount: payment.amountMinor };
    if (booking === 'confirmed') return redirect('success', { ...base, message: completedMessage });
    if (booking === 'under-review')
      return redirect('success', { ...base, message: UNDER_REVIEW_MESSAGE }, 'pending');
    return redirect('fail', { ...base, message: NOT_CONFIRMED_MESSAGE });
  }

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
        const { payment, status, bookingStatus } = result;
        if (status === 'PAID' || status === 'REFUNDED') {
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
        abortSignatures: {
          fail: gateway.signAbort('fail', payment.transactionId),
          cancel: gateway.signAbort('cancel', payment.transactionId),
        },
      });
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
