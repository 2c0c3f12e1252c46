import { and, eq, gt, inArray, isNull, lte, not, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { type BookingStatus, bookings, departures, payments, tours, users } from '../../db/schema/index.js';
import { countAll, inListWindow, type ListWindow } from '../../lib/list-query.js';
import { bookingStatusesBefore, PENDING } from './state.js';

/**
 * Bookings read the payments table (their views show the payment, and a pending booking whose payment is
 * PAID is under review) but never write it: payment changes go through the BookingPayments port.
 */
const paymentReceived = sql<boolean>`${payments.status} = 'PAID'`;

/** Columns of the booking itself, shared by the detailed and the summary views. */
const bookingColumns = {
  id: bookings.id,
  departureId: bookings.departureId,
  status: bookings.status,
  guestCount: bookings.guestCount,
  unitPriceMinor: bookings.unitPriceMinor,
  amountMinor: bookings.amountMinor,
  currency: bookings.currency,
  holdExpiresAt: bookings.holdExpiresAt,
  createdAt: bookings.createdAt,
  updatedAt: bookings.updatedAt,
};

const detailColumns = {
  ...bookingColumns,
  needsReview: bookings.needsReview,
  bookingCancellationPolicy: bookings.cancellationPolicy,
  tourCancellationPolicy: tours.cancellationPolicy,
  userId: users.id,
  userName: users.name,
  userEmail: users.email,
  userPhone: users.phone,
  userAddress: users.address,
  tourId: tours.id,
  tourTitle: tours.title,
  tourSlug: tours.slug,
  tourCostFromMinor: tours.costFromMinor,
  tourImages: tours.images,
  tourLocation: tours.location,
  // A booking's tour shows the dates of the departure booked.
  tourStartDate: departures.startDate,
  tourEndDate: departures.endDate,
  tourRatingSum: tours.ratingSum,
  tourRatingCount: tours.ratingCount,
  paymentId: payments.id,
  transactionId: payments.transactionId,
  paymentStatus: payments.status,
  paymentAmountMinor: payments.amountMinor,
  paymentRefundedMinor: payments.refundedMinor,
  paymentCurrency: payments.currency,
  invoiceKey: payments.invoiceKey,
};

export type BookingDetailRow = {
  [K in keyof typeof detailColumns]: (typeof detailColumns)[K]['_']['notNull'] extends true
    ? (typeof detailColumns)[K]['_']['data']
    : (typeof detailColumns)[K]['_']['data'] | null;
};

/** Bookings with tour, departure, user and payment joined; `where` may use any of the five tables. */
export async function selectBookingDetails(db: Executor, window: ListWindow): Promise<BookingDetailRow[]> {
  const query = db
    .select(detailColumns)
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .innerJoin(tours, eq(tours.id, bookings.tourId))
    .innerJoin(departures, eq(departures.id, bookings.departureId))
    .leftJoin(payments, eq(payments.bookingId, bookings.id))
    .$dynamic();
  return (await inListWindow(query, window)) as BookingDetailRow[];
}

export async function countBookingDetails(db: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await db
    .select({ n: countAll })
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .innerJoin(tours, eq(tours.id, bookings.tourId))
    .where(where);
  return row?.n ?? 0;
}

export async function findBookingDetail(
  db: Executor,
  bookingId: string,
): Promise<BookingDetailRow | undefined> {
  const [row] = await selectBookingDetails(db, {
    where: eq(bookings.id, bookingId),
    orderBy: [],
    limit: 1,
    offset: 0,
  });
  return row;
}

const summaryColumns = {
  ...bookingColumns,
  userId: bookings.userId,
  tourId: bookings.tourId,
  paymentId: payments.id,
};
export type BookingSummaryRow = Awaited<ReturnType<typeof selectBookingSummaries>>[number];

export async function selectBookingSummaries(db: Executor, window: ListWindow) {
  return inListWindow(
    db
      .select(summaryColumns)
      .from(bookings)
      .leftJoin(payments, eq(payments.bookingId, bookings.id))
      .$dynamic(),
    window,
  );
}

export async function countBookings(db: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(bookings).where(where);
  return row?.n ?? 0;
}

/** Whose booking it is, for routes open to its owner and admins. */
export async function findBookingOwner(db: Executor, bookingId: string) {
  const [row] = await db.select({ userId: bookings.userId }).from(bookings).where(eq(bookings.id, bookingId));
  return row;
}

export async function findCustomer(db: Executor, userId: string) {
  const [row] = await db
    .select({
      id: users.id,
      name: users.name,
      email: users.email,
      phone: users.phone,
      address: users.address,
    })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}

/**
 * Locks the user's row until the transaction ends, so one user's bookings are made one at a time. Its own
 * statement: under READ COMMITTED, the statements after it see what the previous lock holder committed.
 */
export async function lockCustomer(tx: Executor, userId: string): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update');
}

/** The user's pending bookings whose hold still runs: how many, their seats, and when the first one ends. */
export async function countActiveHolds(tx: Executor, userId: string, now: Date) {
  const [row] = await tx
    .select({
      holds: sql<number>`count(*)::int`,
      seats: sql<number>`coalesce(sum(${bookings.guestCount}), 0)::int`,
      nextExpiry: sql<string | Date | null>`min(${bookings.holdExpiresAt})`,
    })
    .from(bookings)
    .where(
      and(
        eq(bookings.userId, userId),
        eq(bookings.status, PENDING),
        eq(bookings.seatsHeld, true),
        gt(bookings.holdExpiresAt, now),
      ),
    );
  return {
    holds: row?.holds ?? 0,
    seats: row?.seats ?? 0,
    nextExpiry: row?.nextExpiry ? new Date(row.nextExpiry) : null,
  };
}

export async function findTourForBooking(db: Executor, tourId: string) {
  const [row] = await db
    .select({
      id: tours.id,
      title: tours.title,
      costFromMinor: tours.costFromMinor,
    })
    .from(tours)
    .where(eq(tours.id, tourId));
  return row;
}

export async function insertBooking(tx: Executor, values: typeof bookings.$inferInsert) {
  const [row] = await tx.insert(bookings).values(values).returning();
  return row!;
}

/** Locks a booking until the transaction ends: every writer of a booking or its payment locks the booking first. */
export async function lockBooking(tx: Executor, bookingId: string) {
  const [booking] = await tx.select().from(bookings).where(eq(bookings.id, bookingId)).for('update');
  return booking;
}
export type LockedBookingRow = NonNullable<Awaited<ReturnType<typeof lockBooking>>>;

/**
 * The booking's payment, and whether its money was received. Its own statement after `lockBooking`, so it
 * sees what the previous lock holder committed.
 */
export async function findPaymentOf(tx: Executor, bookingId: string) {
  const [row] = await tx
    .select({
      id: payments.id,
      received: paymentReceived,
      amountMinor: payments.amountMinor,
      refundedMinor: payments.refundedMinor,
    })
    .from(payments)
    .where(eq(payments.bookingId, bookingId));
  return row;
}

/**
 * Moves bookings to `to`, only from the statuses the state machine allows before it; returns the ids that
 * moved.
 */
export async function moveBookings(
  tx: Executor,
  bookingIds: string[],
  to: BookingStatus,
  extra: Partial<Pick<typeof bookings.$inferInsert, 'needsReview'>> = {},
): Promise<string[]> {
  if (bookingIds.length === 0) return [];
  const moved = await tx
    .update(bookings)
    .set({ status: to, ...extra })
    .where(and(inArray(bookings.id, bookingIds), inArray(bookings.status, bookingStatusesBefore(to))))
    .returning({ id: bookings.id });
  return moved.map((r) => r.id);
}

/**
 * When a booking's trip starts: what cancellation policies count back from, and after which only an admin
 * may cancel it. The start of its departure.
 */
export const bookingStartsAt = (row: { tourStartDate: Date | null }): Date | null => row.tourStartDate;

/** What a cancellation of the booking refunds: its policy (copied when paid, else its tour's) and its start. */
export async function findCancellationTerms(tx: Executor, bookingId: string) {
  const [row] = await tx
    .select({
      bookingCancellationPolicy: bookings.cancellationPolicy,
      tourCancellationPolicy: tours.cancellationPolicy,
      tourStartDate: departures.startDate,
    })
    .from(bookings)
    .innerJoin(tours, eq(tours.id, bookings.tourId))
    .innerJoin(departures, eq(departures.id, bookings.departureId))
    .where(eq(bookings.id, bookingId));
  return (
    row && {
      policy: row.bookingCancellationPolicy ?? row.tourCancellationPolicy,
      startsAt: bookingStartsAt(row),
    }
  );
}

/** Fixes the booking's cancellation policy at its tour's current one, once: when it is paid. */
export async function copyCancellationPolicy(tx: Executor, bookingId: string): Promise<void> {
  await tx
    .update(bookings)
    .set({
      cancellationPolicy: sql`(select ${tours.cancellationPolicy} from ${tours} where ${tours.id} = ${bookings.tourId})`,
    })
    .where(and(eq(bookings.id, bookingId), isNull(bookings.cancellationPolicy)));
}

/** Tells an operator why a booking needs a look, whatever its status. */
export async function flagForReview(tx: Executor, bookingId: string, note: string): Promise<void> {
  await tx.update(bookings).set({ needsReview: note }).where(eq(bookings.id, bookingId));
}

/** A PENDING booking with a PAID payment is waiting for an admin to review that payment. */
const paidPaymentExists = sql`exists (select 1 from ${payments} where ${payments.bookingId} = ${bookings.id} and ${paymentReceived})`;

/**
 * Locks up to `batch` pending bookings whose hold has run out, skipping rows another writer holds and
 * bookings whose payment is under review (their seats are kept until an admin decides).
 */
export async function lockExpiredHolds(tx: Executor, now: Date, batch: number): Promise<string[]> {
  const rows = await tx
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.status, PENDING), lte(bookings.holdExpiresAt, now), not(paidPaymentExists)))
    .orderBy(bookings.holdExpiresAt)
    .limit(batch)
    .for('update', { skipLocked: true });
  if (rows.length === 0) return [];
  // Checked again now that the rows are locked: a payment confirmed while this statement ran is visible
  // only to a new one (payment writers lock the booking first, so nothing changes it after this).
  const paid = await tx
    .select({ id: payments.bookingId })
    .from(payments)
    .where(
      and(
        inArray(
          payments.bookingId,
          rows.map((r) => r.id),
        ),
        paymentReceived,
      ),
    );
  const underReview = new Set(paid.map((r) => r.id));
  return rows.map((r) => r.id).filter((id) => !underReview.has(id));
}

/**
 * When the user's latest unpaid hold on the departure ended, if after `since`: a booking cancelled unpaid (a
 * cancellation moves its hold's expiry to the moment it let go), or one FAILED when its hold ran out (before
 * `now`; a payment the gateway declined ends a booking FAILED too, and does not count).
 */
export async function lastEndedHold(
  tx: Executor,
  hold: { userId: string; departureId: string },
  since: Date,
  now: Date,
): Promise<Date | null> {
  const [row] = await tx
    .select({ endedAt: sql<string | Date | null>`max(${bookings.holdExpiresAt})` })
    .from(bookings)
    .innerJoin(payments, eq(payments.bookingId, bookings.id))
    .where(
      and(
        eq(bookings.userId, hold.userId),
        eq(bookings.departureId, hold.departureId),
        inArray(payments.status, ['UNPAID', 'FAILED', 'CANCELLED']),
        gt(bookings.holdExpiresAt, since),
        or(
          eq(bookings.status, 'CANCEL'),
          and(eq(bookings.status, 'FAILED'), lte(bookings.holdExpiresAt, now)),
        ),
      ),
    );
  return row?.endedAt ? new Date(row.endedAt) : null;
}

/**
 * An unpaid hold let go before its time ends at `at` (the app's clock; without it, the database's, for callers
 * that have no clock): when it ended is what the re-hold cool-down counts from.
 */
export async function endHoldAt(tx: Executor, bookingId: string, at?: Date): Promise<void> {
  const end = at ? sql`${at.toISOString()}::timestamptz` : sql`now()`;
  await tx
    .update(bookings)
    .set({ holdExpiresAt: sql`least(${bookings.holdExpiresAt}, ${end})` })
    .where(eq(bookings.id, bookingId));
}
