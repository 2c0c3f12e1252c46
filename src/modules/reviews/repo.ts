import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { bookings, departures, reviews, tours, users } from '../../db/schema/index.js';
import { countAll, inListWindow, type ListSpec, type ListWindow } from '../../lib/list-query.js';

export type ReviewRow = typeof reviews.$inferSelect;

export const reviewListSpec: ListSpec = {
  searchable: [],
  filters: {},
  sortable: { createdAt: reviews.createdAt, rating: reviews.rating },
  tieBreaker: reviews.id,
  projectable: ['_id', 'tour', 'booking', 'user', 'rating', 'comment', 'hidden', 'createdAt', 'updatedAt'],
};

/**
 * When the trip a booking is for ends, the one place that decides it: the end of the booking's departure.
 * Null when there is no such booking.
 */
export async function bookingTripEnd(db: Executor, bookingId: string): Promise<Date | null> {
  const [row] = await db
    .select({ endsAt: departures.endDate })
    .from(bookings)
    .innerJoin(departures, eq(departures.id, bookings.departureId))
    .where(eq(bookings.id, bookingId));
  return row?.endsAt ?? null;
}

/**
 * The booking a review is written for: whose it is, which tour, its status. The share lock keeps it from
 * being cancelled before the review commits.
 */
export async function lockBookingToReview(tx: Executor, bookingId: string) {
  const [row] = await tx
    .select({ id: bookings.id, userId: bookings.userId, tourId: bookings.tourId, status: bookings.status })
    .from(bookings)
    .where(eq(bookings.id, bookingId))
    .for('share');
  return row;
}

/** The kept rating of a tour (sum and count of its visible reviews); undefined when there is no such tour. */
export async function findTourRating(db: Executor, tourId: string) {
  const [row] = await db
    .select({ sum: tours.ratingSum, count: tours.ratingCount })
    .from(tours)
    .where(eq(tours.id, tourId));
  return row;
}

/**
 * Adds to a tour's rating sum and count in one relative update: concurrent writers each add their own change
 * (the row lock orders them), so nothing is lost and nothing is recounted. The CHECK constraint keeps the sum
 * between 1 and 5 times the count.
 */
export async function addToTourRating(tx: Executor, tourId: string, change: { sum: number; count: number }) {
  if (change.sum === 0 && change.count === 0) return;
  await tx
    .update(tours)
    .set({
      ratingSum: sql`${tours.ratingSum} + ${change.sum}`,
      ratingCount: sql`${tours.ratingCount} + ${change.count}`,
      updatedAt: sql`now()`,
    })
    .where(eq(tours.id, tourId));
}

export async function insertReview(tx: Executor, values: typeof reviews.$inferInsert): Promise<ReviewRow> {
  const [row] = await tx.insert(reviews).values(values).returning();
  return row!;
}

/**
 * Locks a review (not deleted) until the transaction ends: every change to a review (and so to its tour's
 * rating) does.
 */
export async function lockReview(tx: Executor, reviewId: string): Promise<ReviewRow | undefined> {
  const [row] = await tx
    .select()
    .from(reviews)
    .where(and(eq(reviews.id, reviewId), isNull(reviews.deletedAt)))
    .for('update');
  return row;
}

/** Locks the review of a booking, deleted or not (a deleted one keeps its first writing's date). */
export async function lockReviewOfBooking(tx: Executor, bookingId: string): Promise<ReviewRow | undefined> {
  const [row] = await tx.select().from(reviews).where(eq(reviews.bookingId, bookingId)).for('update');
  return row;
}

export async function updateReviewRow(
  tx: Executor,
  reviewId: string,
  changes: Partial<Pick<ReviewRow, 'rating' | 'comment' | 'hidden' | 'deletedAt' | 'updatedAt'>>,
): Promise<ReviewRow> {
  const [row] = await tx.update(reviews).set(changes).where(eq(reviews.id, reviewId)).returning();
  return row!;
}

export async function countReviews(db: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(reviews).where(where);
  return row?.n ?? 0;
}

/** Reviews with their author's public name and picture. */
const viewColumns = {
  review: reviews,
  userName: users.name,
  userPicture: users.picture,
};
export type ReviewViewRow = { review: ReviewRow; userName: string; userPicture: string | null };

export async function selectReviewViews(db: Executor, list: ListWindow): Promise<ReviewViewRow[]> {
  return inListWindow(
    db.select(viewColumns).from(reviews).innerJoin(users, eq(users.id, reviews.userId)).$dynamic(),
    list,
  );
}

export async function findReviewView(db: Executor, reviewId: string): Promise<ReviewViewRow | undefined> {
  const [row] = await selectReviewViews(db, {
    where: eq(reviews.id, reviewId),
    orderBy: [],
    limit: 1,
    offset: 0,
  });
  return row;
}

/** The conditions of a tour's public review list: its reviews neither hidden nor deleted. */
export const visibleReviewsOf = (tourId: string): SQL | undefined =>
  and(eq(reviews.tourId, tourId), eq(reviews.hidden, false), isNull(reviews.deletedAt));

/** The conditions of the admins' view of a tour's hidden reviews (deleted ones are gone for everyone). */
export const hiddenReviewsOf = (tourId: string): SQL | undefined =>
  and(eq(reviews.tourId, tourId), eq(reviews.hidden, true), isNull(reviews.deletedAt));
