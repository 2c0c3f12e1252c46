import { notFound } from '../../lib/errors.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import { confirmPaid, type LockedBooking } from '../bookings/lifecycle.js';
import { PENDING } from '../bookings/state.js';
import { type GatewayVerdict, VERIFIED_STATUSES, withGatewayTimeout } from './gateway.js';
import { ensureInvoiceFor, queueInvoiceEmail } from './invoice.js';
import { isLocalGateway } from './local-gateway.js';
import { duplicateOutcome, LATE_PAYMENT_REASON, type Outcome, receivedOutcome } from './outcome.js';
import { paymentUnderReviewEmail } from './payment-emails.js';
import { refundsOfPayment } from './refund-repo.js';
import { toRefundView } from './refund-view.js';
import * as repo from './repo.js';
import type { PaymentServiceDeps } from './service.js';
import { PAID, UNPAID, wasReceived } from './state.js';

/** What a gateway callback carries. All of it is untrusted: only the gateway's own validation counts. */
export interface CallbackInput {
  tranId?: string;
  valId?: string;
  fields: Record<string, unknown>;
}

export type Settlement =
  /** The gateway validated this payment; `result` is what became of it (paid, a duplicate, or a repeat). */
  | { outcome: 'settled'; payment: repo.PaymentRow; result: Outcome }
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

/** The callback fields worth keeping for an audit trail (never the whole, attacker-sized body). */
export function auditFields(fields: Record<string, unknown>): Record<string, unknown> {
  const keep = ['tran_id', 'val_id', 'amount', 'currency', 'status', 'bank_tran_id', 'card_type', 'error'];
  const out: Record<string, unknown> = {};
  for (const k of keep) if (typeof fields[k] === 'string') out[k] = (fields[k] as string).slice(0, 200);
  return out;
}

const validatedKey = (valId: string) => `validated:${valId}`;

/**
 * Settling gateway callbacks: a success return or IPN is verified with the gateway and recorded once per
 * validated payment (`val_id`); a fail or cancel return is checked with the gateway and recorded.
 */
export function createSettlement(deps: PaymentServiceDeps) {
  const { db, clock, gateway, storage } = deps;

  function rejectionReason(verdict: GatewayVerdict, payment: repo.PaymentRow, tranId: string) {
    if (!VERIFIED_STATUSES.has(verdict.status))
      return `the gateway reports this payment as ${verdict.status || 'unknown'}`;
    // The session the callback names: each of a payment's sessions has its own transaction id.
    if (verdict.tranId !== tranId) return 'the validated payment belongs to another transaction';
    if (verdict.amount !== payment.amountMinor) return 'the paid amount does not match the booking';
    if (verdict.currency !== payment.currency) return 'the paid currency does not match the booking';
    return undefined;
  }

  /**
   * The built-in gateway moves no money, so its payment only counts while the booking waits for it: a
   * val_id kept from an earlier page cannot revive a booking that expired or was cancelled, or pay twice.
   */
  function localPaymentRefused(p: repo.PaymentContext): string | undefined {
    if (!isLocalGateway(gateway)) return undefined;
    if (p.paymentStatus === UNPAID && p.bookingStatus === PENDING && p.holdExpiresAt > clock.now()) return;
    return `the booking no longer awaits payment (booking ${p.bookingStatus}, payment ${p.paymentStatus})`;
  }

  /**
   * Records one validated payment, once per val_id, in one transaction with the booking's lock and the
   * customer's mail: the first makes the payment PAID and places its booking (a payment that arrives after its
   * booking expired or was cancelled is still recorded, never lost); one for a payment already received is a
   * duplicate (another session paid too) and is refunded in full; a val_id seen before changes nothing.
   */
  async function record(paymentId: string, verdict: GatewayVerdict, kind: string, tranId: string) {
    const now = clock.now();
    return db.transaction(async (tx) => {
      const locked = await repo.lockPaymentContext(tx, paymentId);
      if (!locked) throw notFound('Payment not found');
      if (await repo.findPaymentEvent(tx, validatedKey(verdict.valId))) return { kind: 'repeat' } as const;
      const refused = localPaymentRefused(locked);
      if (refused) return { kind: 'refused', reason: refused } as const;
      const event = {
        paymentId,
        eventKey: validatedKey(verdict.valId),
        kind,
        payload: {
          status: verdict.status,
          tran_id: verdict.tranId,
          val_id: verdict.valId,
          ...(verdict.bankTranId ? { bank_tran_id: verdict.bankTranId } : {}),
          amount: toMajor(verdict.amount),
          ...(verdict.risky ? { risk_level: '1' } : {}),
        },
      };
      if (wasReceived(locked.paymentStatus)) {
        await repo.recordPaymentEvent(tx, { ...event, outcome: 'DUPLICATE' });
        const refund = await deps.refunds.refundDuplicate(tx, locked, {
          valId: verdict.valId,
          bankTranId: verdict.bankTranId,
          tranId,
          amountMinor: verdict.amount,
          currency: verdict.currency,
        });
        return { kind: 'duplicate', refund } as const;
      }
      await repo.recordPaymentEvent(tx, { ...event, outcome: PAID });
      const paid = await repo.markPaymentPaid(tx, paymentId, verdict, now);
      if (!paid)
        throw new Error(`payment ${paymentId} could not be marked paid from ${locked.paymentStatus}`);
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
      return { kind: 'paid', payment, refund } as const;
    });
  }

  /** What became of a validated payment (by its val_id), from the records: its booking and refunds. */
  async function outcomeOf(paymentId: string, valId: string, completedMessage?: string) {
    const payment = await repo.findPaymentContext(db, { paymentId });
    const refunds = await refundsOfPayment(db, paymentId);
    const duplicate = refunds.find((r) => r.duplicateValId === valId);
    if (duplicate) return duplicateOutcome(duplicate);
    return receivedOutcome(
      {
        bookingStatus: payment!.bookingStatus,
        refunds: refunds.filter((r) => r.duplicateValId === null),
      },
      completedMessage,
    );
  }

  /** Verifies a success callback or IPN with the gateway and records the payment when it checks out. */
  async function settle(input: CallbackInput, kind: 'success' | 'ipn'): Promise<Settlement> {
    const tranId = input.tranId;
    const payment = tranId ? await repo.findPaymentByTransactionId(db, tranId) : undefined;
    if (!tranId || !payment) {
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
    const reason = rejectionReason(verdict, payment, tranId);
    if (reason) return reject(reason);

    const recorded = await record(payment.id, verdict, kind, tranId);
    if (recorded.kind === 'refused') return reject(recorded.reason);
    const facts = {
      paymentId: payment.id,
      bookingId: payment.bookingId,
      amount: toMajor(verdict.amount),
      currency: verdict.currency,
      via: kind,
    };
    if (recorded.kind === 'duplicate') {
      deps.refunds.announce(toRefundView(recorded.refund));
      deps.events(
        'payment.duplicate',
        { ...facts, refundId: recorded.refund.id },
        'second payment for a paid booking: refunded in full',
      );
    }
    if (recorded.kind === 'paid') {
      if (recorded.refund) deps.refunds.announce(toRefundView(recorded.refund));
      deps.events('payment.confirmed', facts, 'payment confirmed by the gateway');
      // Outside the transaction. If it fails, the housekeeping job generates the invoice later.
      await ensureInvoiceFor(db, storage, recorded.payment, clock.now()).catch((err) =>
        deps.onBackgroundError?.(err, 'invoice generation'),
      );
    }
    return { outcome: 'settled', payment, result: await outcomeOf(payment.id, verdict.valId) };
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
   * fail/cancel callbacks: the attempt is recorded (as the gateway confirms it or not) and nothing else
   * changes. The booking keeps its seats until its hold runs out, so the payer can open a new session and pay
   * (a failed SSLCommerz transaction cannot be paid again); the hold sweeper ends it if they do not.
   */
  async function abort(kind: 'fail' | 'cancel', input: CallbackInput) {
    const tranId = input.tranId;
    const payment = tranId ? await repo.findPaymentByTransactionId(db, tranId) : undefined;
    if (!tranId || !payment) return undefined;
    const open = payment.status === UNPAID;
    const confirmed = open && (await gatewayConfirmsAbort(kind, tranId, input.fields));
    const first = await repo.recordPaymentEvent(db, {
      paymentId: payment.id,
      // Unconfirmed claims get a key each, so a forged one cannot stand in for the genuine one later.
      eventKey: confirmed || !open ? `${kind}:${tranId}` : undefined,
      kind,
      outcome: !open ? `IGNORED_${payment.status}` : confirmed ? kind.toUpperCase() : 'UNCONFIRMED',
      payload: auditFields(input.fields),
    });
    if (confirmed && first) {
      deps.events(
        kind === 'fail' ? 'payment.failed' : 'payment.cancelled',
        { paymentId: payment.id, bookingId: payment.bookingId },
        `payment ${kind === 'fail' ? 'failed' : 'cancelled'} at the gateway; the booking keeps its seats until its hold ends`,
      );
    }
    return repo.findPaymentContext(db, { paymentId: payment.id });
  }

  return { settle, abort, outcomeOf };
}
