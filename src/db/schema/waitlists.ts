import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bookings } from './bookings.js';
import { id, timestamps, tstz } from './columns.js';
import { departures } from './departures.js';
import { users } from './users.js';

export const WAITLIST_STATUSES = ['WAITING', 'OFFERED', 'BOOKED', 'EXPIRED', 'LEFT'] as const;
export type WaitlistStatus = (typeof WAITLIST_STATUSES)[number];

/**
 * A traveller waiting for seats on a departure. Join order is (created_at, id); an offer is a pending
 * booking (`booking_id`) holding the entry's seats.
 */
export const waitlistEntries = pgTable(
  'waitlist_entries',
  {
    id: id(),
    departureId: uuid('departure_id')
      .notNull()
      .references(() => departures.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    guestCount: integer('guest_count').notNull(),
    status: text('status').$type<WaitlistStatus>().notNull().default('WAITING'),
    /** The offer: the pending booking made for this entry (then paid, or expired). */
    bookingId: uuid('booking_id').references(() => bookings.id, { onDelete: 'set null' }),
    offeredAt: tstz('offered_at'),
    ...timestamps(),
  },
  (t) => [
    // One live entry per traveller and departure.
    uniqueIndex('waitlist_entries_live_key')
      .on(t.departureId, t.userId)
      .where(sql`${t.status} in ('WAITING','OFFERED')`),
    // A departure's entries in join order: the offer worker's walk, positions and the admin list.
    index('waitlist_entries_departure_idx').on(t.departureId, t.createdAt, t.id),
    index('waitlist_entries_user_idx').on(t.userId, t.createdAt),
    index('waitlist_entries_booking_idx').on(t.bookingId),
    check(
      'waitlist_entries_status_check',
      sql`${t.status} in ('WAITING','OFFERED','BOOKED','EXPIRED','LEFT')`,
    ),
    check('waitlist_entries_guest_count_check', sql`${t.guestCount} > 0`),
  ],
);
