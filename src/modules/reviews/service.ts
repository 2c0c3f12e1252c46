import type { Database, Executor } from '../../db/client.js';
import { findPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, conflict, forbidden, notFound, validationError } from '../../lib/errors.js';
import { listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { CONFIRMED } from '../bookings/state.js';
import { tourRating } from '../tours/rating.js';
import {
  addToTourRating,
  bookingTripEnd,
  countReviews,
  findReviewView,
  findTourRating,
  hiddenReviewsOf,
  insertReview,
  lockBookingToReview,
  lockReview,
  lockReviewOfBooking,
  type ReviewRow,
  type ReviewViewRow,
  reviewListSpec,
  selectReviewViews,
  updateReviewRow,
  visibleReviewsOf,
} from './repo.js';
import type { CreateReviewInput, ReviewDto, ReviewListQuery, UpdateReviewInput } from './schemas.js';

/** How long after writing a review its author may still change it. */
export const REVIEW_EDIT_WINDOW_DAYS = 30;
const EDIT_WINDOW_MS = REVIEW_EDIT_WINDOW_DAYS * 24 * 60 * 60 * 1000;

const isAdmin = (auth: AuthContext) => auth.role === 'ADMIN' || auth.role === 'SUPER_ADMIN';

/** What a review adds to its tour's rating: its rating and one, while it is visible. */
const contribution = (review: Pick<ReviewRow, 'rating' | 'hidden'>) =>
  review.hidden ? { sum: 0, count: 0 } : { sum: review.rating, count: 1 };

function toReviewDto({ review, userName, userPicture }: ReviewViewRow, admin: boolean): ReviewDto {
  return {
    _id: review.id,
    tour: review.tourId,
    booking: review.bookingId,
    user: { _id: review.userId, name: userName, picture: userPicture },
    rating: review.rating,
    comment: review.comment,
    ...(admin ? { hidden: review.hidden } : {}),
    createdAt: review.createdAt.toISOString(),
    updatedAt: review.updatedAt.toISOString(),
  };
}

/**
 * 409 once the edit window of a review has closed: it counts from the review's first writing, which a
 * review deleted and written again keeps.
 */
function assertEditable(review: Pick<ReviewRow, 'createdAt'>, now: Date): void {
  if (now.getTime() - review.createdAt.getTime() > EDIT_WINDOW_MS) {
    throw conflict(
      `A review can be changed within ${REVIEW_EDIT_WINDOW_DAYS} days of writing it; this one was first written on ${review.createdAt.toISOString()}`,
    );
  }
}

const alreadyReviewed = () =>
  new AppError(409, 'CONFLICT', 'This booking has already been reviewed', [
    { path: 'booking', message: 'This booking has already been reviewed' },
  ]);

export function createReviewService({ db, clock }: { db: Database; clock: Clock }) {
  /** The review as just written in `tx`, with its author. */
  const written = async (tx: Executor, reviewId: string) => (await findReviewView(tx, reviewId))!;

  return {
    /**
     * A review by the traveller of their own paid booking of this tour, once its trip has ended; one per
     * booking. Someone else's booking is a 404, as if it did not exist.
     */
    async create(auth: AuthContext, tourId: string, input: CreateReviewInput): Promise<ReviewDto> {
      const now = clock.now();
      const created = await db.transaction(async (tx) => {
        if (!(await findTourRating(tx, tourId))) throw notFound('Tour not found');
        const booking = await lockBookingToReview(tx, input.booking);
        if (!booking || booking.userId !== auth.userId) throw notFound('Booking not found');
        if (booking.tourId !== tourId) throw validationError('booking', 'booking is for another tour');
        if (booking.status !== CONFIRMED) {
          throw validationError('booking', 'Only a paid booking can be reviewed');
        }
        const tripEnd = await bookingTripEnd(tx, booking.id);
        if (!tripEnd || tripEnd > now) {
          throw validationError(
            'booking',
            tripEnd
              ? `The trip can be reviewed once it has ended (${tripEnd.toISOString()})`
              : 'The trip can be reviewed once it has ended',
          );
        }
        const earlier = await lockReviewOfBooking(tx, booking.id);
        if (earlier && !earlier.deletedAt) throw alreadyReviewed();
        let review: ReviewRow;
        if (earlier) {
          // Written again after it was deleted: the same review, whose edit window runs from its first writing.
          assertEditable(earlier, now);
          review = await updateReviewRow(tx, earlier.id, {
            rating: input.rating,
            comment: input.comment ?? null,
            deletedAt: null,
            updatedAt: now,
          });
          await addToTourRating(tx, tourId, contribution(review));
          return written(tx, review.id);
        }
        try {
          review = await insertReview(tx, {
            tourId,
            bookingId: booking.id,
            userId: auth.userId,
            rating: input.rating,
            comment: input.comment ?? null,
            createdAt: now,
            updatedAt: now,
          });
        } catch (err) {
          const unique = findPgError(err, (e) => e.code === UNIQUE_VIOLATION);
          if (unique?.constraint === 'reviews_booking_id_key') throw alreadyReviewed();
          throw err;
        }
        await addToTourRating(tx, tourId, contribution(review));
        return written(tx, review.id);
      });
      return toReviewDto(created, isAdmin(auth));
    },

    /**
     * A tour's visible reviews (newest first unless sorted), with its rating in the meta. With `hidden` (the
     * route lets only admins ask), the admins' view: the hidden reviews (`true`) or the visible ones (`false`),
     * each showing `hidden`.
     */
    async list(tourId: string, query: ReviewListQuery) {
      const rating = await findTourRating(db, tourId);
      if (!rating) throw notFound('Tour not found');
      const { hidden, ...listQuery } = query;
      const admin = hidden !== undefined;
      const where = hidden === 'true' ? hiddenReviewsOf(tourId) : visibleReviewsOf(tourId);
      const parsed = parseListQuery(listQuery, reviewListSpec, [where]);
      // The kept count is the number of visible reviews: no count(*) per page of the public list.
      const [rows, total] = await Promise.all([
        selectReviewViews(db, parsed),
        hidden === 'true' ? countReviews(db, parsed.where) : rating.count,
      ]);
      return {
        items: rows.map((row) => ({
          ...project(toReviewDto(row, admin), parsed.fields),
          _id: row.review.id,
        })),
        meta: { ...listMeta(parsed, total), ...tourRating(rating.sum, rating.count) },
      };
    },

    /**
     * The author changes rating and comment within the edit window; an admin hides or shows it. Anyone else
     * is told there is no such review.
     */
    async update(auth: AuthContext, reviewId: string, input: UpdateReviewInput): Promise<ReviewDto> {
      const now = clock.now();
      const admin = isAdmin(auth);
      const updated = await db.transaction(async (tx) => {
        const current = await lockReview(tx, reviewId);
        const own = current?.userId === auth.userId;
        if (!current || !(own || admin)) throw notFound('Review not found');
        if (input.hidden !== undefined && !admin) throw forbidden('Only an admin can hide or show a review');
        const editsContent = input.rating !== undefined || input.comment !== undefined;
        if (editsContent) {
          if (!own) throw forbidden("Only its author can change a review's rating or comment");
          assertEditable(current, now);
        }
        const next = await updateReviewRow(tx, current.id, {
          rating: input.rating,
          comment: input.comment,
          hidden: input.hidden,
          updatedAt: now,
        });
        const before = contribution(current);
        const after = contribution(next);
        await addToTourRating(tx, current.tourId, {
          sum: after.sum - before.sum,
          count: after.count - before.count,
        });
        return written(tx, current.id);
      });
      return toReviewDto(updated, admin);
    },

    /**
     * Its author or an admin removes a review; anyone else is told there is no such review. The row is kept,
     * marked deleted, so that a review of the booking written again keeps the first one's edit window.
     */
    async remove(auth: AuthContext, reviewId: string): Promise<void> {
      const now = clock.now();
      await db.transaction(async (tx) => {
        const current = await lockReview(tx, reviewId);
        if (!current || !(current.userId === auth.userId || isAdmin(auth)))
          throw notFound('Review not found');
        await updateReviewRow(tx, current.id, { deletedAt: now, updatedAt: now });
        const removed = contribution(current);
        await addToTourRating(tx, current.tourId, { sum: -removed.sum, count: -removed.count });
      });
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
