import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { type BookingStatus, bookings, tours, users } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, conflict, forbidden, notFound, upstreamError, validationError } from '../../lib/errors.js';
import { sha256 } from '../../lib/hash.js';
import { type ListSpec, listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { toMajor } from '../../lib/money.js';
import type { Storage } from '../../lib/storage/storage.js';
import type { AuthContext } from '../../plugins/auth-guard.js';
import { type PaymentGateway, withGatewayTimeout } from '../payments/gateway.js';
import { ensureInvoice, queueInvoiceEmail } from '../payments/invoice.js';
import type { InvoiceLinks } from '../payments/invoice-links.js';
import { assertHoldAllowance, type HoldLimits } from './hold-limits.js';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from './idempotency.js';
import * as repo from './repo.js';
import { type BookingDetail, type BookingSummary, type CreateBookingInput, PROJECTABLE } from './schemas.js';
import { holdSeats, releaseHeldSeats } from './seats.js';

export interface BookingServiceDeps {
  db: Database;
  clock: Clock;
  gateway: PaymentGateway;
  invoiceLinks: InvoiceLinks;
  storage: Storage;
  holdMinutes: number;
  holdLimits: HoldLimits;
  gatewayTimeoutMs: number;
}

const isAdmin = (who: AuthContext) => who.role === 'ADMIN' || who.role === 'SUPER_ADMIN';

/** Unguessable: 128 random bits (the legacy `tran_<ms>_<0-999>` could be guessed and confirmed for free). */
export const newTransactionId = () => `tran_${randomBytes(16).toString('hex')}`;

/**
 * Status changes a caller may ask for. Owners may only cancel a pending booking; COMPLETE comes only from
 * a validated payment, or from an admin approving a paid booking held for review (see changeStatus).
 */
export const OWNER_TRANSITIONS: Partial<Record<BookingStatus, BookingStatus[]>> = { PENDING: ['CANCEL'] };
export const ADMIN_TRANSITIONS: Partial<Record<BookingStatus, BookingStatus[]>> = {
  PENDING: ['CANCEL', 'FAILED'],
  COMPLETE: ['CANCEL'],
};

const iso = (d: Date) => d.toISOString();

/** `fields` projection keeps `_id` always. */
const projectItem = <T extends { _id: string }>(item: T, fields: string[] | undefined) =>
  project(item, fields) as Partial<T> & { _id: string };

/** The booking's own fields as the API shows them (money in major units, ISO dates). */
function bookingFields(row: repo.BookingSummaryRow | repo.BookingDetailRow) {
  return {
    _id: row.id,
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

function toDetail(row: repo.BookingDetailRow, view: { admin: boolean; invoiceUrl?: string | null }) {
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
            currency: row.paymentCurrency ?? row.currency,
            status: row.paymentStatus,
            ...(view.admin ? { invoiceUrl: view.invoiceUrl ?? null } : {}),
          }
        : null,
  };
  if (view.admin) detail.needsReview = row.needsReview;
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
const statusFilter = { column: bookings.status, kind: { enum: ['PENDING', 'COMPLETE', 'CANCEL', 'FAILED'] } };

const ADMIN_LIST: ListSpec = {
  searchable: [tours.title, users.name, users.email],
  filters: {
    _id: { column: bookings.id, kind: 'id' },
    status: statusFilter,
    tour: { column: bookings.tourId, kind: 'id' },
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
  },
  sortable: commonSortable,
  tieBreaker: bookings.id,
  projectable: PROJECTABLE.filter((f) => f !== 'needsReview'),
};

export function createBookingService(deps: BookingServiceDeps) {
  const { db, clock, gateway, invoiceLinks } = deps;

  const invoiceUrlOf = (row: { paymentId: string | null; invoiceKey: string | null }) =>
    row.paymentId && row.invoiceKey ? invoiceLinks.url(row.paymentId, clock.now()) : null;

  /** Gives a booking's seats back and marks it FAILED; used when its payment session could not be opened. */
  async function abandonBooking(bookingId: string) {
    await db.transaction(async (tx) => {
      const locked = await repo.lockBookingWithPayment(tx, bookingId);
      if (locked?.booking.status !== 'PENDING') return;
      await releaseHeldSeats(tx, [bookingId]);
      await repo.failBookings(tx, [bookingId]);
    });
  }

  async function createBooking(userId: string, input: CreateBookingInput) {
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
    if (tour.costFromMinor === null) throw validationError('tour', 'This tour has no price yet');
    if (tour.startDate && tour.startDate <= now)
      throw validationError('tour', 'This tour has already started');

    const { booking, payment } = await db.transaction(async (tx) => {
      await assertHoldAllowance(
        tx,
        { userId, guestCount: input.guestCount, now },
        deps.holdLimits,
        deps.holdMinutes,
      );
      const held = await holdSeats(tx, input.tour, input.guestCount);
      if (!held) throw conflict('Not enough seats left on this tour', 'SOLD_OUT');
      // The price is read from the row just locked, so the snapshot matches the seats held.
      const unitPriceMinor = held.costFromMinor;
      if (unitPriceMinor === null) throw validationError('tour', 'This tour has no price yet');
      const amountMinor = unitPriceMinor * input.guestCount;
      const booking = await repo.insertBooking(tx, {
        userId,
        tourId: held.id,
        status: 'PENDING',
        guestCount: input.guestCount,
        unitPriceMinor,
        amountMinor,
        currency: held.currency,
        holdExpiresAt: new Date(now.getTime() + deps.holdMinutes * 60_000),
        seatsHeld: true,
      });
      const payment = await repo.insertPayment(tx, {
        bookingId: booking.id,
        transactionId: newTransactionId(),
        status: 'UNPAID',
        amountMinor,
        currency: held.currency,
        gateway: gateway.name,
      });
      return { booking, payment };
    });

    // Outside any transaction: a slow gateway holds no locks and no pooled connection.
    let paymentUrl: string;
    try {
      ({ paymentUrl } = await withGatewayTimeout(
        gateway.createSession({
          transactionId: payment.transactionId,
          amountMinor: payment.amountMinor,
          currency: payment.currency,
          customer: {
            name: customer.name,
            email: customer.email,
            phone: customer.phone ?? '',
            address: customer.address ?? '',
          },
          productName: tour.title,
        }),
        deps.gatewayTimeoutMs,
      ));
    } catch {
      // If even this fails (database down), the hold sweeper releases the seats when the hold runs out.
      await abandonBooking(booking.id).catch(() => undefined);
      throw upstreamError(
        'The payment gateway did not respond, so the booking was not made and no seats are held. Please try again.',
      );
    }
    const detail = await repo.findBookingDetail(db, booking.id);
    return { paymentUrl, booking: toDetail(detail!, { admin: false }) };
  }

  return {
    /** Holds seats and opens a payment session; with an Idempotency-Key, a repeat replays the first answer. */
    async bookTour(who: AuthContext, input: CreateBookingInput, idempotencyKey?: string) {
      if (!idempotencyKey) return { statusCode: 201, data: await createBooking(who.userId, input) };
      const claim = await claimIdempotencyKey(db, {
        userId: who.userId,
        key: idempotencyKey,
        requestHash: sha256(JSON.stringify({ tour: input.tour, guestCount: input.guestCount })),
        now: clock.now(),
      });
      if (claim.kind === 'replay') {
        return {
          statusCode: claim.statusCode,
          data: claim.body as Awaited<ReturnType<typeof createBooking>>,
        };
      }
      try {
        const data = await createBooking(who.userId, input);
        await completeIdempotencyKey(db, claim.recordId, 201, data);
        return { statusCode: 201, data };
      } catch (err) {
        await releaseIdempotencyKey(db, claim.recordId);
        throw err;
      }
    },

    async listAll(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, ADMIN_LIST);
      const [rows, total] = await Promise.all([
        repo.selectBookingDetails(db, parsed),
        repo.countBookingDetails(db, parsed.where),
      ]);
      const data = rows.map((row) =>
        projectItem(toDetail(row, { admin: true, invoiceUrl: invoiceUrlOf(row) }), parsed.fields),
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
      return toDetail(row, { admin: isAdmin(who), invoiceUrl: isAdmin(who) ? invoiceUrlOf(row) : undefined });
    },

    /**
     * A PENDING booking whose payment is PAID is under review (the gateway marked the payment risky): an
     * admin approves it with COMPLETE (the invoice goes out as for any payment) or rejects it with CANCEL
     * or FAILED (seats released, flagged for a refund); its owner can no longer cancel it here.
     */
    async changeStatus(who: AuthContext, bookingId: string, next: BookingStatus) {
      const admin = isAdmin(who);
      const approved = await db.transaction(async (tx) => {
        const locked = await repo.lockBookingWithPayment(tx, bookingId);
        if (!locked || (!admin && locked.booking.userId !== who.userId)) throw notFound('Booking not found');
        const { booking, payment } = locked;
        if (!admin && next !== 'CANCEL') throw forbidden('You can only cancel your own pending booking');
        const underReview = booking.status === 'PENDING' && payment?.status === 'PAID';
        if (underReview && !admin) {
          throw conflict(
            'This booking is paid and its payment is under review; please contact us to cancel it',
          );
        }
        if (underReview && next === 'COMPLETE') {
          await repo.setBookingStatus(tx, booking.id, 'COMPLETE', { needsReview: null });
          await queueInvoiceEmail(tx, payment.id, clock.now());
          return payment.id;
        }
        const allowed = (admin ? ADMIN_TRANSITIONS : OWNER_TRANSITIONS)[booking.status] ?? [];
        if (!allowed.includes(next)) {
          throw conflict(`A ${booking.status} booking cannot be changed to ${next}`);
        }
        await releaseHeldSeats(tx, [booking.id]);
        if (booking.status === 'COMPLETE' || underReview) {
          await repo.setBookingStatus(tx, booking.id, next, {
            needsReview: underReview
              ? 'Payment rejected after review: a refund is due'
              : 'Cancelled after payment: a refund is due',
          });
          return undefined;
        }
        await repo.setBookingStatus(tx, booking.id, next);
        if (payment) {
          await repo.movePaymentStatus(
            tx,
            payment.id,
            ['UNPAID'],
            next === 'CANCEL' ? 'CANCELLED' : 'FAILED',
          );
        }
        return undefined;
      });
      if (approved) {
        // Outside the transaction; if it fails, the housekeeping job generates the invoice and sends the mail.
        await ensureInvoice(db, deps.storage, approved, clock.now()).catch(() => undefined);
      }
      const row = await repo.findBookingDetail(db, bookingId);
      return toDetail(row!, { admin, invoiceUrl: admin ? invoiceUrlOf(row!) : undefined });
    },
  };
}

export type BookingService = ReturnType<typeof createBookingService>;
