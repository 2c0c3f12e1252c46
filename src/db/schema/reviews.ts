import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bookings } from './bookings.js';
import { tours } from './catalogue.js';
import { id, timestamps, tstz } from './columns.js';
import { users } from './users.js';

export const MAX_REVIEW_COMMENT = 2000;

/**
 * A traveller's rating of a trip they paid for, one per booking. Visible (not hidden, not deleted) reviews count in their tour's
 * `rating_sum` and `rating_count`, which change in the same transaction as the review.
 */
export const reviews = pgTable(
  'reviews',
  {
    id: id(),
    tourId: uuid('tour_id')
      .notNull()
      .references(() => tours.id, { onDelete: 'restrict' }),
    bookingId: uuid('booking_id')
      .notNull()
      .references(() => bookings.id, { onDelete: 'restrict' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    rating: smallint('rating').notNull(),
    comment: text('comment'),
    /**
     * Hidden by an admin, or because its booking was cancelled and refunded in full: left out of the tour's
     * list and rating.
     */
    hidden: boolean('hidden').notNull().default(false),
    /**
     * When its author or an admin deleted it. The row stays, so that writing the review of the booking again
     * keeps the edit window of the first writing (`created_at`).
     */
    deletedAt: tstz('deleted_at'),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('reviews_booking_id_key').on(t.bookingId),
    // A tour's visible reviews, newest first or by rating; both also serve the foreign key to tours.
    index('reviews_tour_newest_idx').on(t.tourId, t.hidden, t.createdAt, t.id),
    index('reviews_tour_rating_idx').on(t.tourId, t.hidden, t.rating, t.id),
    index('reviews_user_id_idx').on(t.userId),
    check('reviews_rating_check', sql`${t.rating} between 1 and 5`),
    check(
      'reviews_comment_check',
      sql`${t.comment} is null or char_length(${t.comment}) <= ${sql.raw(String(MAX_REVIEW_COMMENT))}`,
    ),
  ],
);
