import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { reviews } from '../../db/schema/index.js';
import { addToTourRating } from './repo.js';

/**
 * What other modules tell the reviews, inside their own transactions. Nothing here depends on another module,
 * so bookings may call it.
 */

/**
 * The booking was just cancelled with everything paid for it given back: the trip it reviews did not count,
 * so its review no longer counts either. The review is hidden (admins still see it with `?hidden=true`) and
 * leaves its tour's rating.
 */
export async function bookingRefundedInFull(tx: Executor, bookingId: string): Promise<void> {
  const [review] = await tx
    .update(reviews)
    .set({ hidden: true, updatedAt: sql`now()` })
    .where(and(eq(reviews.bookingId, bookingId), eq(reviews.hidden, false), isNull(reviews.deletedAt)))
    .returning({ tourId: reviews.tourId, rating: reviews.rating });
  if (review) await addToTourRating(tx, review.tourId, { sum: -review.rating, count: -1 });
}
