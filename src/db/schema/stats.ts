import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/*
 * Figures for the admin statistics, kept exact by triggers on users, tours, bookings, payments and refunds
 * (migrations/0011_stats_summaries.sql). A trigger never updates a summary row: it inserts the change as
 * a row of its own (+1 for the new state, -1 for the old), so writers take no lock a concurrent writer
 * could wait for. Readers sum the rows of a key; stats_fold(), run by a background job on every
 * instance, collapses each key's rows into one so that what readers sum stays small. stats_rebuild()
 * recomputes every table from scratch (the migration's backfill, the benchmark dataset, the tests).
 */

const count = (name: string) => bigint(name, { mode: 'number' }).notNull();

/** Bookings by the UTC day they were created on and their current status, with their guests. */
export const statsBookingDays = pgTable(
  'stats_booking_days',
  {
    day: date('day', { mode: 'string' }).notNull(),
    status: text('status').notNull(),
    bookings: count('bookings'),
    guests: count('guests'),
  },
  (t) => [index('stats_booking_days_day_idx').on(t.day, t.status)],
);

/**
 * Bookings that count (PENDING or COMPLETE) per tour. Folded rows (one per tour) are ranked by an index;
 * unfolded rows are the changes since the last fold.
 */
export const statsTourBookings = pgTable(
  'stats_tour_bookings',
  {
    tourId: uuid('tour_id').notNull(),
    bookings: count('bookings'),
    folded: boolean('folded').notNull().default(false),
  },
  (t) => [
    uniqueIndex('stats_tour_bookings_folded_key').on(t.tourId).where(sql`${t.folded}`),
    index('stats_tour_bookings_rank_idx').on(sql`${t.bookings} desc`, t.tourId).where(sql`${t.folded}`),
    index('stats_tour_bookings_changes_idx').on(t.tourId).where(sql`not ${t.folded}`),
  ],
);

/** Users who ever booked: a user's first booking inserts the row, and only then counts in stats_counters. */
export const statsBookingUsers = pgTable('stats_booking_users', {
  userId: uuid('user_id').primaryKey(),
});

/** Named counts: booking_users (distinct users who booked), cancelled_after_payment. */
export const statsCounters = pgTable('stats_counters', { name: text('name').notNull(), n: count('n') });

/** Payments by status and gateway status, with their amounts and what completed refunds gave back. */
export const statsPaymentGroups = pgTable('stats_payment_groups', {
  status: text('status').notNull(),
  gatewayStatus: text('gateway_status'),
  payments: count('payments'),
  amountMinor: count('amount_minor'),
  refundedMinor: count('refunded_minor'),
});

/** PAID payments by the UTC day they were paid on. */
export const statsRevenueDays = pgTable(
  'stats_revenue_days',
  {
    day: date('day', { mode: 'string' }).notNull(),
    payments: count('payments'),
    amountMinor: count('amount_minor'),
    refundedMinor: count('refunded_minor'),
  },
  (t) => [index('stats_revenue_days_day_idx').on(t.day)],
);

/** Refunds by status with their amounts. */
export const statsRefundGroups = pgTable('stats_refund_groups', {
  status: text('status').notNull(),
  refunds: count('refunds'),
  amountMinor: count('amount_minor'),
});

/** Users by deletion, state and role. */
export const statsUserGroups = pgTable('stats_user_groups', {
  isDeleted: boolean('is_deleted').notNull(),
  isActive: text('is_active').notNull(),
  role: text('role').notNull(),
  users: count('users'),
});

/** Tours by tour type and division: how many, and the count and sum of their prices (for the average). */
export const statsTourGroups = pgTable('stats_tour_groups', {
  tourTypeId: uuid('tour_type_id'),
  divisionId: uuid('division_id'),
  tours: count('tours'),
  priced: count('priced'),
  costFromMinor: count('cost_from_minor'),
});
