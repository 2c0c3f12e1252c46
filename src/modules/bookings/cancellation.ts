import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { conflict, forbidden, notFound, validationError } from '../../lib/errors.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import { bookingRefundedInFull } from '../reviews/hooks.js';
import type { WaitlistHandOff } from '../waitlists/hooks.js';
import { bookingCancelledEmail } from './booking-emails.js';
import { hasStarted, refundDueAt } from './cancellation-policy.js';
import { moveBooking } from './lifecycle.js';
import type { BookingPayments, RefundView } from './payment-port.js';
import * as repo from './repo.js';
import { releaseHeldSeats } from './seats.js';
import { assertRequestableMove, CONFIRMED, ENDED_UNPAID, type EndedUnpaid, PENDING } from './state.js';

/** Who cancels: a user (the booking's owner, or an admin acting for the operator). */
export interface Canceller {
  userId: string;
  admin: boolean;
}

export interface CancelRequest {
  by: Canceller;
  /** Why, as the customer's mail and the refund record say it; a default names who cancelled. */
  reason?: string;
  /**
   * What goes back of a paid booking: what its cancellation policy gives at this moment, all of it (a
   * departure the operator cancels), or an amount in minor units an admin chose (up to what was paid).
   */
  refund: 'policy' | 'full' | { amountMinor: number };
}

/** A booking just cancelled (or failed) and the refund that went with it, if any. */
export interface EndedBooking {
  bookingId: string;
  status: EndedUnpaid;
  refund: RefundView | null;
}

const MANAGED_BY_ADMIN =
  'This booking is paid and its payment is under review; please contact us to cancel it';

/**
 * Cancelling bookings, with their seats and their money. Every function runs in the caller's transaction, so a
 * larger change (a departure the operator cancels) can cancel many bookings at once and commit them together.
 */
export function createBookingCancellation(deps: {
  clock: Clock;
  payments: BookingPayments;
  /** Seats a cancellation frees go to the offers of those waiting, in the cancelling transaction. */
  handOff?: WaitlistHandOff;
}) {
  const { clock, payments, handOff } = deps;

  /**
   * Ends a booking whose row the caller's transaction has locked, as CANCEL (or FAILED when an admin rejects a
   * pending one): seats released; an unpaid payment closed; a paid one refunded as `request.refund` says, the
   * customer mailed. A paid booking whose trip has started can only be cancelled by an admin (409).
   */
  async function endLocked(
    tx: Executor,
    booking: repo.LockedBookingRow,
    request: CancelRequest,
    to: EndedUnpaid = ENDED_UNPAID.cancel,
  ): Promise<EndedBooking> {
    const { by } = request;
    const payment = await repo.findPaymentOf(tx, booking.id);
    const paid = payment?.received === true;
    const underReview = booking.status === PENDING && paid;
    if (underReview && !by.admin) throw conflict(MANAGED_BY_ADMIN);
    assertRequestableMove(by.admin ? 'admin' : 'owner', booking.status, to);

    const now = clock.now();
    const terms = await repo.findCancellationTerms(tx, booking.id);
    const startsAt = terms?.startsAt ?? null;
    if (paid && !by.admin && hasStarted(startsAt, now)) {
      throw conflict(
        'This trip has already started, so the booking can no longer be cancelled; please contact us',
      );
    }
    // What is left of the payment once its refunds, in flight ones included, are counted.
    const refundable = paid ? await payments.refundable(tx, booking.id) : 0;
    const refundMinor = refundOf(request, {
      refundable,
      paidMinor: paid && payment ? payment.amountMinor : 0,
      // A payment an admin rejects after review goes back whole: the customer never had the booking.
      full: underReview,
      policyRefund: (paidMinor) =>
        terms ? Math.min(refundable, refundDueAt(terms.policy, paidMinor, startsAt, now)) : 0,
    });

    if (!paid && booking.status === PENDING) await repo.endHoldAt(tx, booking.id, now);
    await releaseHeldSeats(tx, [booking.id], handOff);
    // Nothing is left for an operator to do: a refund (if any) is on its way.
    await moveBooking(tx, booking, to, paid ? null : undefined);
    const reason = request.reason?.trim() || defaultReason(booking, by, underReview);
    if (!paid) {
      await payments.closeUnpaid(tx, [booking.id], to);
      // The owner knows what they just did; anyone else's cancellation is news to the customer.
      if (to === ENDED_UNPAID.cancel && booking.userId !== by.userId) {
        const detail = await repo.findBookingDetail(tx, booking.id);
        if (detail) await enqueueEmail(tx, bookingCancelledEmail(detail, reason));
      }
      return { bookingId: booking.id, status: to, refund: null };
    }
    // Everything paid goes back: the trip no longer counts, nor does a review of it.
    if (payment.amountMinor > 0 && payment.refundedMinor + refundMinor >= payment.amountMinor) {
      await bookingRefundedInFull(tx, booking.id);
    }
    const refund = await payments.refundCancelled(tx, {
      bookingId: booking.id,
      amountMinor: refundMinor,
      reason,
      requestedBy: by.userId,
    });
    return { bookingId: booking.id, status: to, refund };
  }

  return {
    endLocked,

    /**
     * Cancels one booking inside the caller's transaction (locking it first) and returns what was refunded;
     * e.g. a departure cancellation calls it for each booking with `refund: 'full'` and an admin as `by`. The
     * booking's owner or an admin only (others: 404). Once the transaction has committed, pass the result to
     * `announce`.
     */
    async cancelBooking(tx: Executor, bookingId: string, request: CancelRequest): Promise<EndedBooking> {
      const booking = await repo.lockBooking(tx, bookingId);
      if (!booking || (!request.by.admin && booking.userId !== request.by.userId)) {
        throw notFound('Booking not found');
      }
      if (booking.status !== PENDING && booking.status !== CONFIRMED) {
        throw conflict(`This booking is already ${booking.status === 'CANCEL' ? 'cancelled' : 'failed'}`);
      }
      return endLocked(tx, booking, request);
    },

    /** Logs what a cancellation did, once its transaction has committed. */
    announce(ended: EndedBooking): void {
      if (ended.refund) payments.announceRefund(ended.refund);
    },
  };
}

export type BookingCancellation = ReturnType<typeof createBookingCancellation>;

function refundOf(
  request: CancelRequest,
  money: {
    refundable: number;
    paidMinor: number;
    full: boolean;
    policyRefund: (paidMinor: number) => number;
  },
): number {
  const chosen = request.refund;
  if (typeof chosen === 'object') {
    if (!request.by.admin) throw forbidden('Only an admin may choose the refund amount');
    if (chosen.amountMinor > money.refundable) {
      throw validationError(
        'refundAmount',
        money.refundable === 0
          ? 'Nothing was paid for this booking, so nothing can be refunded'
          : `refundAmount cannot be more than the ${toMajor(money.refundable)} paid`,
      );
    }
    return chosen.amountMinor;
  }
  if (money.refundable === 0) return 0;
  if (chosen === 'full' || money.full) return money.refundable;
  return money.policyRefund(money.paidMinor);
}

function defaultReason(booking: repo.LockedBookingRow, by: Canceller, underReview: boolean): string {
  if (underReview) return 'payment rejected after review';
  return booking.userId === by.userId ? 'cancelled by the customer' : 'cancelled by the operator';
}
