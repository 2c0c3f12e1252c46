import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';

export const divisions = pgTable(
  'divisions',
  {
    id: id(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    thumbnail: text('thumbnail'),
    description: text('description'),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('divisions_name_key').on(sql`lower(${t.name})`),
    uniqueIndex('divisions_slug_key').on(t.slug),
    index('divisions_created_at_idx').on(t.createdAt),
    index('divisions_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
  ],
);

export const tourTypes = pgTable(
  'tour_types',
  {
    id: id(),
    name: text('name').notNull(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('tour_types_name_key').on(sql`lower(${t.name})`),
    index('tour_types_created_at_idx').on(t.createdAt),
  ],
);

/**
 * One tier of a cancellation policy: cancelled at least `hoursBefore` hours before the start, the customer gets
 * `refundPercent` of what they paid back. The tier with the largest `hoursBefore` that still applies wins;
 * when none does, nothing is refunded.
 */
export interface CancellationTier {
  hoursBefore: number;
  refundPercent: number;
}
export type CancellationPolicy = CancellationTier[];

/** 100% up to a week before the start, 50% up to two days before, nothing after. */
export const DEFAULT_CANCELLATION_POLICY: CancellationPolicy = [
  { hoursBefore: 168, refundPercent: 100 },
  { hoursBefore: 48, refundPercent: 50 },
  { hoursBefore: 0, refundPercent: 0 },
];

export const tours = pgTable(
  'tours',
  {
    id: id(),
    title: text('title').notNull(),
    slug: text('slug').notNull(),
    description: text('description'),
    location: text('location'),
    departureLocation: text('departure_location'),
    arrivalLocation: text('arrival_location'),
    images: text('images').array().notNull().default(sql`'{}'::text[]`),
    /** Price per guest in minor units (poisha). */
    costFromMinor: bigint('cost_from_minor', { mode: 'number' }),
    currency: text('currency').notNull().default('BDT'),
    included: text('included').array().notNull().default(sql`'{}'::text[]`),
    excluded: text('excluded').array().notNull().default(sql`'{}'::text[]`),
    amenities: text('amenities').array().notNull().default(sql`'{}'::text[]`),
    tourPlan: text('tour_plan').array().notNull().default(sql`'{}'::text[]`),
    /** Capacity given to new departures; null means unlimited. */
    maxGuest: integer('max_guest'),
    minAge: integer('min_age'),
    /** What a cancellation refunds; copied onto each booking when it is paid. */
    cancellationPolicy: jsonb('cancellation_policy')
      .$type<CancellationPolicy>()
      .notNull()
      .default(DEFAULT_CANCELLATION_POLICY),
    /**
     * Sum and number of the ratings of the tour's visible reviews, changed only by the reviews module, in the
     * transaction that changes a review, by one relative update: the average is read, never recounted.
     */
    ratingSum: integer('rating_sum').notNull().default(0),
    ratingCount: integer('rating_count').notNull().default(0),
    divisionId: uuid('division_id')
      .notNull()
      .references(() => divisions.id, { onDelete: 'restrict' }),
    tourTypeId: uuid('tour_type_id')
      .notNull()
      .references(() => tourTypes.id, { onDelete: 'restrict' }),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('tours_slug_key').on(t.slug),
    index('tours_division_id_idx').on(t.divisionId),
    index('tours_tour_type_id_idx').on(t.tourTypeId),
    index('tours_created_at_idx').on(t.createdAt),
    index('tours_cost_from_idx').on(t.costFromMinor),
    index('tours_title_trgm_idx').using('gin', sql`${t.title} gin_trgm_ops`),
    index('tours_description_trgm_idx').using('gin', sql`${t.description} gin_trgm_ops`),
    index('tours_location_trgm_idx').using('gin', sql`${t.location} gin_trgm_ops`),
    check(
      'tours_rating_check',
      sql`${t.ratingCount} >= 0 and ${t.ratingSum} between ${t.ratingCount} and 5 * ${t.ratingCount}`,
    ),
    check('tours_max_guest_check', sql`${t.maxGuest} is null or ${t.maxGuest} >= 0`),
    check('tours_cost_check', sql`${t.costFromMinor} is null or ${t.costFromMinor} >= 0`),
  ],
);

export const TOUR_COUNT_SCOPES = ['all', 'division', 'tour_type'] as const;
export type TourCountScope = (typeof TOUR_COUNT_SCOPES)[number];

/**
 * How many tours the common catalogue lists hold: every tour (scope `all`, key ''), per division (key = its id)
 * and per tour type. Kept by triggers on `tours` (migration 0011) in the transaction that inserts, deletes or
 * moves a tour, whoever writes it, so GET /tour reads its exact total here instead of counting rows.
 */
export const tourCounts = pgTable(
  'tour_counts',
  {
    scope: text('scope').$type<TourCountScope>().notNull(),
    key: text('key').notNull(),
    n: integer('n').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    check('tour_counts_scope_check', sql`${t.scope} in ('all','division','tour_type')`),
  ],
);
