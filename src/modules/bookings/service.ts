import { performance } from 'node:perf_hooks';
import { eq } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { isDatabaseUnavailable } from '../../db/pg-errors.js';
import { BOOKING_STATUSES, type BookingStatus, bookings, tours, users } from '../../db/schema/index.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, conflict, forbidden, notFound, upstreamError, validationError } from '../../lib/errors.js';
import { sha256 } from '../../lib/hash.js';
import { type ListSpec, listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { toMajor, toMinor } from '../../lib/money.js';
import { findDeparture, nextBookableDeparture } from '../departures/service.js';
import { tourRating } from '../tours/rating.js';
import type { BookingCancellation } from './cancellation.js';
import { hasStarted, refundDueAt } from './cancellation-policy.js';
import { createDepartureGate } from './departure-gate.js';
import { assertHoldAllowance, type HoldLimits } from './hold-limits.js';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from './idempotency.js';
import { moveBooking } from './lifecycle.js';
import type { BookingPayments, RefundView } from './payment-port.js';
import * as repo from './repo.js';
import {
  type BookingDetail,
  type BookingSummary,
  type CancelBookingInput,
  type CreateBookingInput,
  PROJECTABLE,
} from './schemas.js';
import { holdSeats, releaseHeldSeats } from './seats.js';
import { soldOut } from './sold-out.js';
import { assertRequestableMove, CONFIRMED, ENDED_UNPAID, isEndedUnpaid, PENDING } from './state.js';

export interface BookingServiceDeps {
  db: Database;
  clock: Clock;
  /** The payment side of a booking: its payment row, gateway session and invoice. */
  payments: BookingPayments;
  /** Cancelling bookings with their seats and refunds (shared with the departure cancellation). */
  cancellation: BookingCancellation;
  holdMinutes: number;
  holdLimits: HoldLimits;
  /** A request's deadline (REQUEST_TIMEOUT_MS): how long a booking may wait for its turn on a departure. */
  requestTimeoutMs?: number;
  /** Where seat-holding transactions run (their own small pool on PostgreSQL); default `db`. */
  holdDb?: Database;
}

/** Answered before the request deadline itself, so the answer still reaches the client. */
const DEADLINE_MARGIN_MS = 1000;

/** Why a departure takes no new bookings at `now`, or undefined when it does. */
function notOpenReason(departure: { status: string; startDate: Date }, now: Date): string | undefined {
  if (departure.status === 'CANCELLED') return 'This departure is cancelled';
  if (departure.status === 'CLOSED') return 'This departure is closed for booking';
  if (departure.startDate <= now) return 'This departure has already started';
  return undefined;
}

const isAdmin = (who: AuthContext) => who.role === 'ADMIN' || who.role === 'SUPER_ADMIN';

const iso = (d: Date) => d.toISOString();

/** `fields` projection keeps `_id` always. */
const projectItem = <T extends { _id: string }>(item: T, fields: string[] | undefined) =>
  project(item, fields) as Partial<T> & { _id: string };

/** The booking's own fields as the API shows them (money in major units, ISO dates). */
function bookingFields(row: repo.BookingSummaryRow | repo.BookingDetailRow) {
  return {
    _id: row.id,
    departure: row.departureId,
    status: row.status,
    guestCount: row.guestCount,
    unitPrice: toMajor(row.unitPriceMinor),
    amount: toMajor(row.amountMinor),
    currency: row.currency,
    holdExpiresAt: iso(row.holdExpiresAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/**
 * What the owner would get back by cancelling now (0 while unpaid); null when they can no longer cancel. A
 * booking paid before policies were copied onto bookings falls back to its tour's.
 */
function refundIfCancelledNow(row: repo.BookingDetailRow, now: Date): number | null {
  const paid = row.paymentStatus === 'PAID';
  if (row.status === PENDING) return paid ? null : 0;
  if (row.status !== CONFIRMED || !paid) return null;
  const startsAt = repo.bookingStartsAt(row);
  if (hasStarted(startsAt, now)) return null;
  const paidMinor = row.paymentAmountMinor ?? 0;
  const refundable = paidMinor - (row.paymentRefundedMinor ?? 0);
  const policy = row.bookingCancellationPolicy ?? row.tourCancellationPolicy;
  return toMajor(Math.min(refundable, refundDueAt(policy, paidMinor, startsAt, now)));
}

interface DetailView {
  admin: boolean;
  now: Date;
  invoiceUrl?: string | null;
  /** Admin views: the booking's refunds. */
  refunds?: RefundView[];
}

function toDetail(row: repo.BookingDetailRow, view: DetailView) {
  const detail: BookingDetail = {
    ...bookingFields(row),
    tour: {
      _id: row.tourId,
      title: row.tourTitle,
      slug: row.tourSlug,
      costFrom: row.tourCostFromMinor === null ? null : toMajor(row.tourCostFromMinor),
      images: row.tourImages,
      location: row.tourLocation,
      startDate: row.tourStartDate ? iso(row.tourStartDate) : null,
      endDate: row.tourEndDate ? iso(row.tourEndDate) : null,
      rating: tourRating(row.tourRatingSum, row.tourRatingCount),
    },
    user: {
      _id: row.userId,
      name: row.userName,
      email: row.userEmail,
      phone: row.userPhone,
      address: row.userAddress,
    },
    payment:
      row.paymentId && row.transactionId && row.paymentStatus && row.paymentAmountMinor !== null
        ? {
            _id: row.paymentId,
            booking: row.id,
            transactionId: row.transactionId,
            amount: toMajor(row.paymentAmountMinor),
            refundedAmount: toMajor(row.paymentRefundedMinor ?? 0),
            currency: row.paymentCurrency ?? row.currency,
            status: row.paymentStatus,
            ...(view.admin ? { invoiceUrl: view.invoiceUrl ?? null } : {}),
          }
        : null,
    cancellationPolicy: row.bookingCancellationPolicy ?? row.tourCancellationPolicy,
    refundIfCancelledNow: refundIfCancelledNow(row, view.now),
  };
  if (view.admin) {
    detail.needsReview = row.needsReview;
    detail.refunds = view.refunds ?? [];
  }
  return detail;
}

function toSummary(row: repo.BookingSummaryRow): BookingSummary {
  return {
    ...bookingFields(row),
    tour: row.tourId,
    user: row.userId,
    payment: row.paymentId,
  };
}

const commonSortable = {
  createdAt: bookings.createdAt,
  updatedAt: bookings.updatedAt,
  guestCount: bookings.guestCount,
  status: bookings.status,
  amount: bookings.amountMinor,
};
const statusFilter = { column: bookings.status, kind: { enum: BOOKING_STATUSES } };

const ADMIN_LIST: ListSpec = {
  searchable: [tours.title, users.name, users.email],
  filters: {
    _id: { column: bookings.id, kind: 'id' },
    status: statusFilter,
    tour: { column: bookings.tourId, kind: 'id' },
    departure: { column: bookings.departureId, kind: 'id' },
    user: { column: bookings.userId, kind: 'id' },
  },
  sortable: commonSortable,
  tieBreaker: bookings.id,
  projectable: PROJECTABLE,
};

const MY_LIST: ListSpec = {
  searchable: [],
  filters: {
    _id: { column: bookings.id, kind: 'id' },
    status: statusFilter,
    tour: { column: bookings.tourId, kind: 'id' },
    departure: { column: bookings.departureId, kind: 'id' },
  },
  sortable: commonSortable,
  tieBreaker: bookings.id,
  projectable: PROJECTABLE.filter((f) => f !== 'needsReview' && f !== 'refunds'),
};

export function createBookingService(deps: BookingServiceDeps) {
  const { db, clock, payments, cancellation } = deps;
  const gate = createDepartureGate();
  const requestTimeoutMs = deps.requestTimeoutMs ?? 30_000;

  /** A booking as `who` may see it: admins also get its review note, invoice link and refunds. */
  async function detailFor(who: AuthContext, row: repo.BookingDetailRow) {
    if (!isAdmin(who)) return toDetail(row, { admin: false, now: clock.now() });
    const refunds = await payments.refundsOf(db, [row.id]);
    return toDetail(row, {
      admin: true,
      now: clock.now(),
      invoiceUrl: payments.invoiceUrl(row),
      refunds: refunds.get(row.id),
    });
  }

  /** Gives a booking's seats back and marks it FAILED; used when its payment session could not be opened. */
  async function abandonBooking(bookingId: string) {
    await db.transaction(async (tx) => {
      const booking = await repo.lockBooking(tx, bookingId);
      if (booking?.status !== PENDING) return;
      await releaseHeldSeats(tx, [bookingId]);
      await moveBooking(tx, booking, ENDED_UNPAID.fail);
      await payments.closeUnpaid(tx, [bookingId], ENDED_UNPAID.fail);
    });
  }

  /**
   * The one way a booking is made, in the caller's transaction: the PENDING booking, its unpaid payment, and
   * its seats held on the departure. The seats last: the departure's row, which every booking of it wants,
   * stays locked only until the commit that follows, so a popular departure serves its queue quickly.
   * Undefined when the seats could not be held (the caller's transaction must then roll back).
   */
  async function placeHold(
    tx: Executor,
    hold: {
      userId: string;
      tourId: string;
      departure: { id: string; currency: string };
      unitPriceMinor: number;
      guestCount: number;
      holdExpiresAt: Date;
      now: Date;
    },
    /** Runs after the booking and its payment are written and before the departure's row is locked. */
    beforeSeats?: (bookingId: string) => Promise<void>,
  ) {
    const { departure, guestCount } = hold;
    const amountMinor = hold.unitPriceMinor * guestCount;
    const booking = await repo.insertBooking(tx, {
      userId: hold.userId,
      tourId: hold.tourId,
      departureId: departure.id,
      status: PENDING,
      guestCount,
      unitPriceMinor: hold.unitPriceMinor,
      amountMinor,
      currency: departure.currency,
      holdExpiresAt: hold.holdExpiresAt,
      seatsHeld: true,
    });
    const payment = await payments.createFor(tx, {
      id: booking.id,
      amountMinor,
      currency: departure.currency,
    });
    await beforeSeats?.(booking.id);
    const held = await holdSeats(tx, departure.id, guestCount, hold.now);
    return held ? { booking, payment, held } : undefined;
  }

  /**
   * The departure to hold seats on: the one asked for (of this tour, open for booking), else the tour's next
   * bookable departure. Sold out there is a 409 later, never a silent switch to another date.
   */
  async function chooseDeparture(tourId: string, departureId: string | undefined, now: Date) {
    if (departureId === undefined) {
      const next = await nextBookableDeparture(db, tourId, now);
      if (!next) throw validationError('tour', 'This tour has no upcoming departure to book');
      return next;
    }
    const chosen = await findDeparture(db, departureId);
    if (!chosen) throw notFound('Departure not found');
    if (chosen.tourId !== tourId) throw validationError('departure', 'departure belongs to another tour');
    const closed = notOpenReason(chosen, now);
    if (closed) throw conflict(closed);
    return chosen;
  }

  /** Why seats could not be held on an open departure a moment ago: it closed meanwhile, or it is sold out. */
  async function whyNotHeld(tx: Executor, departureId: string, now: Date, guestCount: number) {
    const current = await findDeparture(tx, departureId);
    if (current) gate.noteSeats(current);
    const closed = current ? notOpenReason(current, now) : 'This departure no longer exists';
    return closed ? conflict(closed) : soldOut(current!, guestCount);
  }

  /**
   * Holds the seats in one transaction and returns what the answer needs, read in that transaction: once it
   * commits, nothing is left that could fail and turn a booking that holds seats into an error. The
   * departure's row is locked by its last statement, so the lock lasts only until the commit.
   */
  async function holdInTransaction(
    hold: Omit<Parameters<typeof placeHold>[1], 'departure'> & {
      departure: { id: string; currency: string };
    },
  ) {
    return (deps.holdDb ?? db).transaction(async (tx) => {
      await assertHoldAllowance(
        tx,
        { userId: hold.userId, departureId: hold.departure.id, guestCount: hold.guestCount, now: hold.now },
        deps.holdLimits,
        deps.holdMinutes,
      );
      const placed = await placeHoldWithDetail(tx, hold);
      if (!placed) throw await whyNotHeld(tx, hold.departure.id, hold.now, hold.guestCount);
      return placed;
    });
  }

  /** `placeHold` that also reads the booking as the answer shows it, before the departure's row is locked. */
  async function placeHoldWithDetail(tx: Executor, hold: Parameters<typeof placeHold>[1]) {
    let detail: repo.BookingDetailRow | undefined;
    const placed = await placeHold(tx, hold, async (bookingId) => {
      detail = await repo.findBookingDetail(tx, bookingId);
    });
    return placed && detail ? { ...placed, detail } : undefined;
  }

  /**
   * Reads and checks what a booking needs, then holds its seats in one transaction. With `deadline`, the hold
   * takes its turn on the departure here; without, the caller already runs this in the departure's lane.
   */
  async function prepareAndHold(userId: string, input: CreateBookingInput, deadline?: number) {
    // A departure seen full a moment ago: SOLD_OUT before any query, so a crowd on a full departure costs
    // no pooled connection, no lock and no wait behind the bookings still running.
    if (input.departure && gate.knownSoldOut(input.departure, input.tour, input.guestCount)) {
      throw soldOut({ id: input.departure, capacity: null }, input.guestCount);
    }
    const customer = await repo.findCustomer(db, userId);
    if (!customer) throw notFound('User not found');
    const missing = (['phone', 'address'] as const).filter((f) => !customer[f]?.trim());
    if (missing.length > 0) {
      throw new AppError(
        400,
        'VALIDATION_ERROR',
        'Please Add Phone Number and Address In Your Profile For Booking!',
        missing.map((path) => ({ path, message: `${path} is required in your profile to book a tour` })),
      );
    }
    const tour = await repo.findTourForBooking(db, input.tour);
    if (!tour) throw notFound('Tour not found');
    const now = clock.now();
    const departure = await chooseDeparture(tour.id, input.departure, now);
    // Seen sold out already: answered without a transaction, so a crowd on a sold-out departure does not
    // queue for its row lock. Seats that look free are still held only by the conditional update below.
    gate.noteSeats(departure);
    if (departure.capacity !== null && departure.seatsBooked + input.guestCount > departure.capacity) {
      throw soldOut(departure, input.guestCount);
    }
    if (departure.priceMinor === null && tour.costFromMinor === null) {
      throw validationError('tour', 'This tour has no price yet');
    }

    const hold = () => {
      // What the holds before this one found, on this instance.
      if (gate.knownSoldOut(departure.id, tour.id, input.guestCount))
        throw soldOut(departure, input.guestCount);
      return holdInTransaction({
        userId,
        tourId: tour.id,
        departure,
        unitPriceMinor: (departure.priceMinor ?? tour.costFromMinor)!,
        guestCount: input.guestCount,
        holdExpiresAt: new Date(now.getTime() + deps.holdMinutes * 60_000),
        now,
      });
    };
    const placed = deadline === undefined ? await hold() : await gate.run(departure.id, deadline, hold);
    gate.noteSeats(placed.held);
    return { ...placed, customer, tour };
  }

  async function createBooking(userId: string, input: CreateBookingInput, receivedAt = performance.now()) {
    // Bookings of one departure take turns in this process (departure-gate.ts), each seeing what the ones
    // before it found; waiting ends at the request's deadline. A departure named in the request takes turns
    // from the first read: a crowd then pipelines through the pool instead of every request's reads queueing
    // behind every other's, and once the departure is full the rest answer SOLD_OUT without a query.
    const deadline = receivedAt + requestTimeoutMs - DEADLINE_MARGIN_MS;
    const { booking, payment, detail, customer, tour } = input.departure
      ? await gate.run(input.departure, deadline, () => prepareAndHold(userId, input))
      : await prepareAndHold(userId, input, deadline);

    // Outside any transaction and the departure's turn: a slow gateway holds no locks and no pooled connection.
    let paymentUrl: string;
    try {
      ({ paymentUrl } = await payments.openSession({ payment, customer, tourTitle: tour.title }));
    } catch (err) {
      // If even this fails (database down), the hold sweeper releases the seats when the hold runs out.
      await abandonBooking(booking.id).catch(() => undefined);
      // Opening a session also writes it down: a database that went away is a 503 to retry, not the gateway's fault.
      if (isDatabaseUnavailable(err)) throw err;
      throw upstreamError(
        'The payment gateway did not respond, so the booking was not made and no seats are held. Please try again.',
      );
    }
    return { paymentUrl, booking: toDetail(detail, { admin: false, now: clock.now() }) };
  }

  return {
    /**
     * A waitlist offer, in the caller's transaction, which has locked the departure and seen the seats free: a
     * PENDING booking holding them until `holdExpiresAt`, made as POST /booking makes one. The per-account hold
     * limits do not apply (the offer still counts toward them). Undefined when the departure has no price.
     */
    async placeOffer(
      tx: Executor,
      offer: {
        userId: string;
        departure: { id: string; tourId: string; currency: string; priceMinor: number | null };
        guestCount: number;
        holdExpiresAt: Date;
      },
    ): Promise<string | undefined> {
      const { departure } = offer;
      const tour = await repo.findTourForBooking(tx, departure.tourId);
      const unitPriceMinor = departure.priceMinor ?? tour?.costFromMinor ?? null;
      if (unitPriceMinor === null) return undefined;
      const now = clock.now();
      const placed = await placeHold(tx, { ...offer, tourId: departure.tourId, unitPriceMinor, now });
      if (!placed) throw await whyNotHeld(tx, departure.id, now, offer.guestCount);
      return placed.booking.id;
    },

    /**
     * Opens the payment session of a pending booking (outside any transaction) and returns its link with what
     * a mail about it needs; undefined when the booking no longer waits for payment. Rejects when the gateway
     * fails, so a job retries.
     */
    async openPaymentLink(bookingId: string) {
      const row = await repo.findBookingDetail(db, bookingId);
      if (
        !row ||
        row.status !== PENDING ||
        row.paymentStatus !== 'UNPAID' ||
        !row.paymentId ||
        !row.transactionId ||
        row.paymentAmountMinor === null
      ) {
        return undefined;
      }
      const { paymentUrl } = await payments.openSession({
        payment: {
          id: row.paymentId,
          transactionId: row.transactionId,
          amountMinor: row.paymentAmountMinor,
          currency: row.paymentCurrency ?? row.currency,
        },
        customer: {
          name: row.userName,
          email: row.userEmail,
          phone: row.userPhone,
          address: row.userAddress,
        },
        tourTitle: row.tourTitle,
      });
      return { paymentUrl, booking: row };
    },

    /** Holds seats and opens a payment session; with an Idempotency-Key, a repeat replays the first answer. */
    async bookTour(
      who: AuthContext,
      input: CreateBookingInput,
      idempotencyKey?: string,
      /** When the request arrived (`performance.now()`): its deadline counts from there. */
      receivedAt?: number,
    ) {
      if (!idempotencyKey)
        return { statusCode: 201, data: await createBooking(who.userId, input, receivedAt) };
      const claim = await claimIdempotencyKey(db, {
        userId: who.userId,
        key: idempotencyKey,
        // A body without `departure` hashes as before departures existed.
        requestHash: sha256(
          JSON.stringify({
            tour: input.tour,
            guestCount: input.guestCount,
            ...(input.departure === undefined ? {} : { departure: input.departure }),
          }),
        ),
        now: clock.now(),
      });
      if (claim.kind === 'replay') {
        return {
          statusCode: claim.statusCode,
          data: claim.body as Awaited<ReturnType<typeof createBooking>>,
        };
      }
      let data: Awaited<ReturnType<typeof createBooking>>;
      try {
        data = await createBooking(who.userId, input, receivedAt);
      } catch (err) {
        await releaseIdempotencyKey(db, claim.recordId);
        throw err;
      }
      // The booking is made and holds seats: it is the answer even if its key cannot be stored now. The key is
      // then let go, so a repeat with it counts as a new request (the hold limits still apply to it).
      await completeIdempotencyKey(db, claim.recordId, 201, data).catch(() =>
        releaseIdempotencyKey(db, claim.recordId).catch(() => undefined),
      );
      return { statusCode: 201, data };
    },

    async listAll(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, ADMIN_LIST);
      const [rows, total] = await Promise.all([
        repo.selectBookingDetails(db, parsed),
        repo.countBookingDetails(db, parsed.where),
      ]);
      const wantsRefunds = !parsed.fields || parsed.fields.includes('refunds');
      const refunds = wantsRefunds
        ? await payments.refundsOf(
            db,
            rows.map((row) => row.id),
          )
        : new Map<string, RefundView[]>();
      const now = clock.now();
      const data = rows.map((row) =>
        projectItem(
          toDetail(row, {
            admin: true,
            now,
            invoiceUrl: payments.invoiceUrl(row),
            refunds: refunds.get(row.id),
          }),
          parsed.fields,
        ),
      );
      return { data, meta: listMeta(parsed, total) };
    },

    async listMine(who: AuthContext, query: Record<string, unknown>) {
      const parsed = parseListQuery(query, MY_LIST, [eq(bookings.userId, who.userId)]);
      const [rows, total] = await Promise.all([
        repo.selectBookingSummaries(db, parsed),
        repo.countBookings(db, parsed.where),
      ]);
      return {
        data: rows.map((row) => projectItem(toSummary(row), parsed.fields)),
        meta: listMeta(parsed, total),
      };
    },

    /** Owner or admin; anyone else gets the same 404 as for a missing booking. */
    async getBooking(who: AuthContext, bookingId: string) {
      const row = await repo.findBookingDetail(db, bookingId);
      if (!row || (!isAdmin(who) && row.userId !== who.userId)) throw notFound('Booking not found');
      return detailFor(who, row);
    },

    /** The booking's refunds, oldest first (owner or admin; others 404). */
    async refundsOfBooking(who: AuthContext, bookingId: string): Promise<RefundView[]> {
      const owner = await repo.findBookingOwner(db, bookingId);
      if (!owner || (!isAdmin(who) && owner.userId !== who.userId)) throw notFound('Booking not found');
      return (await payments.refundsOf(db, [bookingId])).get(bookingId) ?? [];
    },

    /**
     * POST /booking/:id/cancel: the owner or an admin cancels; a paid booking is refunded what its
     * cancellation policy gives now, or what an admin chose. Parallel cancels take turns on the booking's
     * lock: the first cancels, the others find it cancelled (409), so there is one refund.
     */
    async cancel(who: AuthContext, bookingId: string, input: CancelBookingInput) {
      const by = { userId: who.userId, admin: isAdmin(who) };
      const ended = await db.transaction((tx) =>
        cancellation.cancelBooking(tx, bookingId, {
          by,
          reason: input?.reason,
          refund: input?.refundAmount === undefined ? 'policy' : { amountMinor: toMinor(input.refundAmount) },
        }),
      );
      cancellation.announce(ended);
      const row = await repo.findBookingDetail(db, bookingId);
      return { booking: await detailFor(who, row!), refund: ended.refund };
    },

    /**
     * The legacy status route. CANCEL (and an admin's FAILED of a pending booking) is a cancellation, the
     * same as POST /booking/:id/cancel without options. A PENDING booking whose payment is PAID is under
     * review (the gateway marked the payment risky): an admin approves it with COMPLETE (the invoice goes
     * out as for any payment) or rejects it with CANCEL or FAILED (seats released, the payment refunded in
     * full); its owner can no longer cancel it here.
     */
    async changeStatus(who: AuthContext, bookingId: string, next: BookingStatus) {
      const admin = isAdmin(who);
      const by = { userId: who.userId, admin };
      const outcome = await db.transaction(async (tx) => {
        const booking = await repo.lockBooking(tx, bookingId);
        if (!booking || (!admin && booking.userId !== who.userId)) throw notFound('Booking not found');
        if (!admin && next !== ENDED_UNPAID.cancel) {
          throw forbidden('You can only cancel your own booking');
        }
        if (isEndedUnpaid(next)) {
          return { ended: await cancellation.endLocked(tx, booking, { by, refund: 'policy' }, next) };
        }
        const payment = await repo.findPaymentOf(tx, booking.id);
        if (booking.status === PENDING && payment?.received === true && next === CONFIRMED) {
          await moveBooking(tx, booking, CONFIRMED, null);
          await payments.queueInvoice(tx, payment.id);
          return { approved: payment.id };
        }
        assertRequestableMove(admin ? 'admin' : 'owner', booking.status, next);
        // The machine allows no other move a caller may ask for; this is never reached.
        throw conflict(`A ${booking.status} booking cannot be changed to ${next}`);
      });
      if (outcome.ended) cancellation.announce(outcome.ended);
      // Outside the transaction; if it fails, the housekeeping job generates the invoice and sends the mail.
      if (outcome.approved) await payments.issueInvoice(outcome.approved);
      const row = await repo.findBookingDetail(db, bookingId);
      return detailFor(who, row!);
    },
  };
}

export type BookingService = ReturnType<typeof createBookingService>;
