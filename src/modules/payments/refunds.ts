import type { Database, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { conflict, notFound, validationError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import {
  enqueueJob,
  type JobContext,
  type JobOutcome,
  type JobRow,
  retryAfter,
} from '../../lib/job-queue.js';
import { listMeta, parseListQuery } from '../../lib/list-query.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import type { RefundView } from '../bookings/payment-port.js';
import { type GatewayRefund, type PaymentGateway, withGatewayTimeout } from './gateway.js';
import {
  cancelledWithoutRefundEmail,
  duplicatePaymentRefundEmail,
  refundCompletedEmail,
  refundFailedEmail,
  refundIssuedEmail,
} from './refund-emails.js';
import type { RefundRow } from './refund-repo.js';
import * as refundRepo from './refund-repo.js';
import { REFUND_LIST, toRefundView } from './refund-view.js';
import type { PaymentContext } from './repo.js';
import * as repo from './repo.js';
import { wasReceived } from './state.js';

/** The job kind that carries a refund out at the gateway; one job per refund and try. */
export const REFUND_JOB = 'refund.process';

/** The first ask after the gateway accepted a refund: many finish at once, so the customer is told soon. */
export const FIRST_REFUND_POLL_SECONDS = 20;

/**
 * When to ask again about a refund the gateway is still processing, after `polls` asks: soon after it was
 * accepted, then twice as long each time, never longer than `pollSeconds` (REFUND_POLL_SECONDS).
 */
export const refundPollDelaySeconds = (polls: number, pollSeconds: number): number =>
  Math.min(pollSeconds, FIRST_REFUND_POLL_SECONDS * 2 ** Math.min(Math.max(polls - 1, 0), 20));

export interface RefundJobPayload {
  refundId: string;
  /** The refund's try this job is for: a job left over from an earlier try does nothing. */
  attempt: number;
}

export interface RefundServiceDeps {
  db: Database;
  clock: Clock;
  gateway: PaymentGateway;
  gatewayTimeoutMs: number;
  events: EventLog;
  /** The longest wait between two asks about a refund the gateway is processing (REFUND_POLL_SECONDS). */
  pollSeconds: number;
}

/** What a new refund is for. `cancelled` tells the customer's mail whether a booking was cancelled. */
export interface RefundRequest {
  bookingId: string;
  amountMinor: number;
  reason: string;
  requestedBy: string | null;
  cancelled: boolean;
}

/** Why a duplicate payment is refunded, as the refund records it. */
export const DUPLICATE_PAYMENT_REASON =
  'duplicate payment: the booking was already paid, so this second payment is refunded in full';

const refundJobKey = (refundId: string, attempt: number) => `${REFUND_JOB}:${refundId}:${attempt}`;

/**
 * Refunds: written in the transaction that decides them, together with the job that carries them out after
 * commit (never a network call inside a transaction), then moved along by what the gateway answers. Every
 * step is a conditional move of the refund's status, so a job run twice (by two instances, or again after
 * a worker died) finishes a refund once; the gateway is always asked with the refund's own reference, so
 * asking twice names one refund there too.
 */
export function createRefundService(deps: RefundServiceDeps) {
  const { db, clock, gateway, events } = deps;

  /**
   * Writes a refund of (part of) the booking's received payment with its job and the customer's mail, in
   * the caller's transaction, which holds the booking's lock. Call `announce` after the commit.
   */
  async function issue(tx: Executor, request: RefundRequest): Promise<RefundRow> {
    const payment = await repo.findPaymentContext(tx, { bookingId: request.bookingId });
    if (!payment || !wasReceived(payment.paymentStatus)) {
      throw conflict('This booking has no payment to refund');
    }
    // Refunds in flight count too: a cap on completed ones alone would let the gateway pay out more than
    // was paid before the database check refused to record it.
    const refundable = payment.amountMinor - (await refundRepo.committedRefundMinor(tx, payment.paymentId));
    if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0) {
      throw validationError('refundAmount', 'The refund must be a positive amount');
    }
    if (request.amountMinor > refundable) {
      throw validationError(
        'refundAmount',
        `The refund cannot be more than the ${toMajor(refundable)} ${payment.currency} left of the payment`,
      );
    }
    const refund = await writeRefund(tx, {
      bookingId: request.bookingId,
      paymentId: payment.paymentId,
      amountMinor: request.amountMinor,
      currency: payment.currency,
      reason: request.reason,
      requestedBy: request.requestedBy,
    });
    await enqueueEmail(tx, refundIssuedEmail(payment, refund, request.cancelled));
    return refund;
  }

  /** A refund row with the job that carries it out after the commit. */
  async function writeRefund(
    tx: Executor,
    values: Omit<Parameters<typeof refundRepo.insertRefund>[1], 'id' | 'refundRef'>,
  ): Promise<RefundRow> {
    const id = newId();
    const refund = await refundRepo.insertRefund(tx, { ...values, refundRef: id, id });
    await enqueueJob(tx, {
      kind: REFUND_JOB,
      key: refundJobKey(refund.id, refund.attempts),
      payload: { refundId: refund.id, attempt: refund.attempts } satisfies RefundJobPayload,
      runAt: clock.now(),
    });
    return refund;
  }

  /**
   * A second validated payment arrived for a payment already received (another session paid too): that
   * money is given back whole, against its own bank transaction, with the customer's mail, in the caller's
   * transaction (which holds the booking's lock). Call `announce` after the commit.
   */
  async function refundDuplicate(
    tx: Executor,
    payment: PaymentContext,
    duplicate: { valId: string; bankTranId?: string; tranId: string; amountMinor: number; currency: string },
  ): Promise<RefundRow> {
    const refund = await writeRefund(tx, {
      bookingId: payment.bookingId,
      paymentId: payment.paymentId,
      amountMinor: duplicate.amountMinor,
      currency: duplicate.currency,
      reason: DUPLICATE_PAYMENT_REASON,
      requestedBy: null,
      duplicateValId: duplicate.valId,
      duplicateBankTranId: duplicate.bankTranId ?? null,
      duplicateTranId: duplicate.tranId,
    });
    await enqueueEmail(tx, duplicatePaymentRefundEmail(payment, refund));
    return refund;
  }

  /** Logs a refund issued by a transaction that has now committed. */
  function announce(refund: RefundView) {
    events(
      'refund.issued',
      {
        refundId: refund._id,
        bookingId: refund.booking,
        paymentId: refund.payment,
        amount: refund.amount,
        currency: refund.currency,
        reason: refund.reason,
      },
      'refund issued',
    );
  }

  /**
   * Ends a refund's try as `to` and runs `then` in the same transaction; undefined, and nothing run, when
   * another worker moved the refund first.
   */
  async function settle(
    refund: RefundRow,
    to: 'REFUNDED' | 'FAILED',
    changes: Parameters<typeof refundRepo.moveRefund>[3],
    then: (tx: Executor, payment: PaymentContext, moved: RefundRow) => Promise<void>,
  ): Promise<RefundRow | undefined> {
    return db.transaction(async (tx) => {
      // Booking and payment first, the order every writer locks them in.
      const payment = await repo.lockPaymentContext(tx, refund.paymentId);
      if (!payment) return undefined;
      const moved = await refundRepo.moveRefund(tx, refund.id, to, changes);
      if (!moved) return undefined;
      await then(tx, payment, moved);
      return moved;
    });
  }

  /** The gateway has returned the money: the refund is REFUNDED and counts on its payment, once. */
  async function complete(refund: RefundRow, gatewayRefundId: string | undefined) {
    const done = await settle(
      refund,
      'REFUNDED',
      { gatewayRefundId: gatewayRefundId ?? refund.gatewayRefundId },
      async (tx, payment, moved) => {
        // A duplicate payment's money was never part of the booking's payment.
        if (!moved.duplicateValId) await refundRepo.addRefunded(tx, refund.paymentId, refund.amountMinor);
        await enqueueEmail(tx, refundCompletedEmail(payment, moved));
      },
    );
    if (done) {
      events(
        'refund.completed',
        {
          refundId: done.id,
          bookingId: done.bookingId,
          paymentId: done.paymentId,
          amount: toMajor(done.amountMinor),
          currency: done.currency,
          gatewayRefundId: done.gatewayRefundId,
        },
        'refund completed',
      );
    }
  }

  /** The gateway refused the refund or gave up on it: FAILED until an operator retries it, once per try. */
  async function fail(refund: RefundRow, reason: string, gatewayRefundId: string | undefined) {
    const failed = await settle(
      refund,
      'FAILED',
      { failureReason: reason.slice(0, 500), gatewayRefundId: gatewayRefundId ?? refund.gatewayRefundId },
      async (tx, payment, moved) => {
        await enqueueEmail(tx, refundFailedEmail(payment, moved));
      },
    );
    if (failed) {
      events(
        'refund.failed',
        {
          refundId: failed.id,
          bookingId: failed.bookingId,
          paymentId: failed.paymentId,
          attempts: failed.attempts,
          reason: failed.failureReason,
        },
        'refund failed: an operator should retry it (POST /api/v1/refunds/:id/retry)',
      );
    }
  }

  /**
   * The `refund.process` job. Takes the refund to PROCESSING, asks the gateway to refund (or, once the
   * gateway has named the refund, how it stands) outside any transaction, and records the answer: polled
   * again later while the gateway is processing. An unreachable gateway fails the run and the queue retries
   * it with backoff; on the job's last try the refund is FAILED for an operator instead.
   */
  async function process(job: JobRow<RefundJobPayload>, run: JobContext): Promise<JobOutcome> {
    const found = await refundRepo.findRefundForGateway(db, job.payload.refundId);
    if (!found || found.refund.attempts !== job.payload.attempt) return;
    let refund = found.refund;
    if (refund.status === 'REFUNDED' || refund.status === 'FAILED') return;
    if (refund.status === 'REQUESTED') {
      const moved = await refundRepo.moveRefund(db, refund.id, 'PROCESSING');
      if (!moved) return retryAfter(0);
      refund = moved;
    }

    let answer: GatewayRefund;
    try {
      answer = await withGatewayTimeout(
        refund.gatewayRefundId
          ? gateway.refundStatus({ gatewayRefundId: refund.gatewayRefundId, refundRef: refund.refundRef })
          : gateway.refund({
              bankTranId: found.bankTranId ?? undefined,
              transactionId: found.transactionId,
              amountMinor: refund.amountMinor,
              currency: refund.currency,
              refundRef: refund.refundRef,
              remarks: refund.reason,
            }),
        deps.gatewayTimeoutMs,
      );
    } catch (err) {
      if (run.attempt < job.maxAttempts) throw err;
      const why = err instanceof Error ? err.message : String(err);
      await fail(
        refund,
        `the payment gateway could not be reached after ${run.attempt} tries (${why})`,
        undefined,
      );
      return;
    }

    switch (answer.status) {
      case 'REFUNDED':
        await complete(refund, answer.gatewayRefundId);
        return;
      case 'FAILED':
        await fail(refund, answer.reason ?? 'refused by the payment gateway', answer.gatewayRefundId);
        return;
      default: {
        const polls = await refundRepo.recordPoll(
          db,
          refund.id,
          answer.gatewayRefundId ?? refund.gatewayRefundId,
        );
        if (polls === undefined) return;
        return retryAfter(refundPollDelaySeconds(polls, deps.pollSeconds));
      }
    }
  }

  return {
    issue,
    refundDuplicate,
    announce,
    process,

    /** What is left to refund of the booking's payment: paid less its own refunds done or in flight. */
    async refundable(tx: Executor, bookingId: string): Promise<number> {
      const payment = await repo.findPaymentContext(tx, { bookingId });
      if (!payment || !wasReceived(payment.paymentStatus)) return 0;
      return payment.amountMinor - (await refundRepo.committedRefundMinor(tx, payment.paymentId));
    },

    /**
     * What the bookings module calls when it cancels a paid booking: a refund of `amountMinor`, or, when
     * nothing is due, the mail saying why.
     */
    async refundCancelled(
      tx: Executor,
      request: Omit<RefundRequest, 'cancelled'>,
    ): Promise<RefundView | null> {
      if (request.amountMinor === 0) {
        const payment = await repo.findPaymentContext(tx, { bookingId: request.bookingId });
        if (payment) await enqueueEmail(tx, cancelledWithoutRefundEmail(payment, request.reason));
        return null;
      }
      return toRefundView(await issue(tx, { ...request, cancelled: true }));
    },

    async refundsOf(executor: Executor, bookingIds: string[]): Promise<Map<string, RefundView[]>> {
      const byBooking = new Map<string, RefundView[]>();
      for (const row of await refundRepo.refundsOfBookings(executor, bookingIds)) {
        const list = byBooking.get(row.bookingId) ?? [];
        list.push(toRefundView(row));
        byBooking.set(row.bookingId, list);
      }
      return byBooking;
    },

    /** Admin list: `status` and `booking` filters, newest first unless sorted otherwise. */
    async list(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, REFUND_LIST);
      const [rows, total] = await Promise.all([
        refundRepo.selectRefunds(db, parsed),
        refundRepo.countRefunds(db, parsed),
      ]);
      return { data: rows.map(toRefundView), meta: listMeta(parsed, total) };
    },

    /**
     * An operator tries a FAILED refund again: back to REQUESTED with a new job. A refund the gateway had
     * accepted before failing it gets a new reference (the gateway would answer the old one with the failed
     * refund); one it never accepted keeps its reference, in case an unanswered request did reach it.
     */
    async retry(refundId: string): Promise<RefundView> {
      const retried = await db.transaction(async (tx) => {
        const refund = await refundRepo.findRefund(tx, refundId);
        if (!refund) throw notFound('Refund not found');
        const payment = await repo.lockPaymentContext(tx, refund.paymentId);
        if (payment && !refund.duplicateValId && refund.status === 'FAILED') {
          const left =
            payment.amountMinor - (await refundRepo.committedRefundMinor(tx, refund.paymentId, refund.id));
          if (refund.amountMinor > left) {
            throw conflict(
              `This refund cannot be retried: only ${toMajor(left)} ${payment.currency} of the payment is left to refund`,
            );
          }
        }
        const attempts = refund.attempts + 1;
        const moved = await refundRepo.moveRefund(
          tx,
          refund.id,
          'REQUESTED',
          {
            attempts,
            failureReason: null,
            gatewayRefundId: null,
            refundRef: refund.gatewayRefundId ? `${refund.id}.${attempts}` : refund.refundRef,
          },
          ['FAILED'],
        );
        if (!moved) {
          const current = await refundRepo.findRefund(tx, refundId);
          throw conflict(
            `Only a FAILED refund can be retried; this one is ${current?.status ?? refund.status}`,
          );
        }
        await enqueueJob(tx, {
          kind: REFUND_JOB,
          key: refundJobKey(moved.id, attempts),
          payload: { refundId: moved.id, attempt: attempts } satisfies RefundJobPayload,
          runAt: clock.now(),
        });
        return moved;
      });
      return toRefundView(retried);
    },
  };
}

export type RefundService = ReturnType<typeof createRefundService>;
