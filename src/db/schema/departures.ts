import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tours } from './catalogue.js';
import { id, timestamps, tstz } from './columns.js';
import { users } from './users.js';

export const DEPARTURE_STATUSES = ['SCHEDULED', 'CLOSED', 'CANCELLED'] as const;
export type DepartureStatus = (typeof DEPARTURE_STATUSES)[number];

/** One scheduled run of a tour: its dates, its seats and its price. Seats are held and counted here. */
export const departures = pgTable(
  'departures',
  {
    id: id(),
    tourId: uuid('tour_id')
      .notNull()
      .references(() => tours.id, { onDelete: 'cascade' }),
    startDate: tstz('start_date').notNull(),
    endDate: tstz('end_date').notNull(),
    /** Seat capacity; null (unlimited) only on departures migrated from tours without a maxGuest. */
    capacity: integer('capacity'),
    /** Seats held by pending bookings plus seats sold; changed only through the seat service. */
    seatsBooked: integer('seats_booked').notNull().default(0),
    /** Price per guest in minor units; null = the tour's costFrom. */
    priceMinor: bigint('price_minor', { mode: 'number' }),
    currency: text('currency').notNull().default('BDT'),
    status: text('status').$type<DepartureStatus>().notNull().default('SCHEDULED'),
    guideId: uuid('guide_id').references(() => users.id, { onDelete: 'set null' }),
    cancelReason: text('cancel_reason'),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('departures_tour_start_key').on(t.tourId, t.startDate),
    // The tour's next bookable departure and its count of upcoming ones (the legacy tour fields).
    index('departures_tour_upcoming_idx').on(t.tourId, t.startDate).where(sql`${t.status} = 'SCHEDULED'`),
    index('departures_start_date_idx').on(t.startDate),
    index('departures_guide_id_idx').on(t.guideId),
    check('departures_status_check', sql`${t.status} in ('SCHEDULED','CLOSED','CANCELLED')`),
    check(
      'departures_seats_check',
      sql`${t.seatsBooked} >= 0 and (${t.capacity} is null or ${t.seatsBooked} <= ${t.capacity})`,
    ),
    check('departures_capacity_check', sql`${t.capacity} is null or ${t.capacity} >= 0`),
    check('departures_price_check', sql`${t.priceMinor} is null or ${t.priceMinor} >= 0`),
    check('departures_dates_check', sql`${t.endDate} >= ${t.startDate}`),
  ],
);
