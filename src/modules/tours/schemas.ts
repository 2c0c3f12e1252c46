import { z } from 'zod';
import { isId } from '../../lib/ids.js';
import { listQuerySchema } from '../../lib/list-query.js';
import { hasAtMostTwoDecimals } from '../../lib/money.js';
import { tourRatingSchema } from './rating.js';

// ---- Tour types ----

export const tourTypeSchema = z.object({
  _id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TourTypeDto = z.infer<typeof tourTypeSchema>;
export const tourTypeListItemSchema = tourTypeSchema.partial().required({ _id: true });

export const TOUR_TYPE_FILTERS = ['_id', 'name'] as const;
export const tourTypeListQuery = listQuerySchema(TOUR_TYPE_FILTERS);

export const tourTypeBody = z.object({ name: z.string().trim().min(1, 'name is required').max(100) });
export type TourTypeInput = z.infer<typeof tourTypeBody>;

export const idParams = z.object({ id: z.string().refine(isId, 'id must be a valid id') });

// ---- Tours ----

/** The longest notice a policy tier may ask for: five years. */
const MAX_HOURS_BEFORE = 5 * 365 * 24;

/**
 * A tour's cancellation policy as the API takes and shows it: tiers of `{hoursBefore, refundPercent}`, kept
 * in descending `hoursBefore`. Cancelled at least `hoursBefore` hours before the start, the customer gets
 * `refundPercent` of the amount paid back (the tier with the largest such `hoursBefore`; none: nothing).
 */
export const cancellationPolicySchema = z
  .array(
    z.object({
      hoursBefore: z
        .number()
        .int('hoursBefore must be a whole number of hours')
        .min(0, 'hoursBefore must not be negative')
        .max(MAX_HOURS_BEFORE, `hoursBefore must be at most ${MAX_HOURS_BEFORE}`),
      refundPercent: z
        .number()
        .min(0, 'refundPercent must be between 0 and 100')
        .max(100, 'refundPercent must be between 0 and 100')
        .refine(hasAtMostTwoDecimals, 'refundPercent must have at most 2 decimals'),
    }),
  )
  .max(20, 'a cancellation policy has at most 20 tiers')
  .superRefine((tiers, ctx) => {
    const seen = new Set<number>();
    tiers.forEach((tier, i) => {
      if (seen.has(tier.hoursBefore)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'hoursBefore'],
          message: `hoursBefore ${tier.hoursBefore} appears twice in the cancellation policy`,
        });
      }
      seen.add(tier.hoursBefore);
    });
  })
  .transform((tiers) => [...tiers].sort((a, b) => b.hoursBefore - a.hoursBefore));

export const tourSchema = z.object({
  _id: z.string(),
  slug: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  images: z.array(z.string()),
  costFrom: z.number().nullable(),
  currency: z.string(),
  maxGuest: z.number().int().nullable(),
  minAge: z.number().int().nullable(),
  /** Seats still free: maxGuest minus seats held or sold; null when maxGuest is null (unlimited). */
  availableSeats: z.number().int().nullable(),
  departureLocation: z.string().nullable(),
  arrivalLocation: z.string().nullable(),
  location: z.string().nullable(),
  startDate: z.string().nullable(),
  endDate: z.string().nullable(),
  amenities: z.array(z.string()),
  included: z.array(z.string()),
  excluded: z.array(z.string()),
  tourPlan: z.array(z.string()),
  division: z.string(),
  tourType: z.string(),
  /** What a cancellation refunds (see cancellationPolicySchema); copied onto each booking when it is paid. */
  cancellationPolicy: z.array(z.object({ hoursBefore: z.number().int(), refundPercent: z.number() })),
  /** How many SCHEDULED departures have not started yet. */
  departures: z.number().int(),
  /** The next bookable departure (the one startDate, endDate and availableSeats describe), or null. */
  nextDeparture: z.string().nullable(),
  rating: tourRatingSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TourDto = z.infer<typeof tourSchema>;
export const tourListItemSchema = tourSchema.partial().required({ _id: true });

export const TOUR_FILTERS = ['_id', 'division', 'tourType', 'location', 'slug'] as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/i;

/** Rejects days that JavaScript would roll over, such as 2027-02-30. */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** An ISO-8601 date or date-time; a date-time without an offset is read as UTC. */
export const isoDate = (field: string) =>
  z
    .string()
    .trim()
    .regex(ISO_DATE, `${field} must be an ISO-8601 date, e.g. 2026-12-01 or 2026-12-01T09:00:00+06:00`)
    .transform((value, ctx) => {
      const hasTime = value.length > 10;
      const hasOffset = /(?:Z|[+-]\d{2}:\d{2})$/i.test(value.slice(10));
      const date = new Date(hasTime && !hasOffset ? `${value.replace(' ', 'T')}Z` : value.replace(' ', 'T'));
      if (Number.isNaN(date.getTime()) || !isCalendarDate(value.slice(0, 10))) {
        ctx.addIssue({ code: 'custom', message: `${field} is not a valid date` });
        return z.NEVER;
      }
      return date;
    });

/**
 * The upper end of a date range: an ISO-8601 date-time, or a date alone meaning the whole of that day (UTC),
 * so `to=2027-01-31` includes departures on the 31st.
 */
export const isoDateUpTo = (field: string) =>
  z
    .string()
    .trim()
    .max(60)
    .transform((value, ctx) => {
      const parsed = isoDate(field).safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
        return z.NEVER;
      }
      return value.length === 10 ? new Date(parsed.data.getTime() + 86_400_000 - 1) : parsed.data;
    });

/** Tours with a SCHEDULED departure starting in this range (either end optional). */
export const tourListFilters = z
  .object({
    departureFrom: isoDate('departureFrom').optional(),
    departureTo: isoDateUpTo('departureTo').optional(),
  })
  .loose();
export type TourListFilters = z.infer<typeof tourListFilters>;
export const tourListQuery = listQuerySchema(TOUR_FILTERS).extend(tourListFilters.shape);

const text = (max: number) => z.string().trim().max(max);
// Forms often send an empty last row: blank items are dropped rather than refused.
const textList = z
  .array(z.string().trim().max(500))
  .max(100)
  .transform((items) => items.filter((item) => item !== ''));
const id = (field: string) => z.string().refine(isId, `${field} must be a valid id`);

const costFrom = z
  .number()
  .min(0, 'costFrom must not be negative')
  .max(100_000_000)
  .refine(hasAtMostTwoDecimals, 'costFrom must have at most 2 decimals');
const seatCount = z.number().int('maxGuest must be a whole number').min(0, 'maxGuest must not be negative');
const age = z.number().int('minAge must be a whole number').min(0, 'minAge must not be negative').max(150);

const tourFields = {
  title: text(200).min(1, 'title is required'),
  description: text(10_000).nullable(),
  location: text(200).nullable(),
  departureLocation: text(200).nullable(),
  arrivalLocation: text(200).nullable(),
  costFrom,
  startDate: isoDate('startDate'),
  endDate: isoDate('endDate'),
  included: textList,
  excluded: textList,
  amenities: textList,
  tourPlan: textList,
  maxGuest: seatCount.nullable(),
  minAge: age.nullable(),
  division: id('division'),
  tourType: id('tourType'),
  cancellationPolicy: cancellationPolicySchema,
};

function endNotBeforeStart(value: { startDate?: Date; endDate?: Date }, ctx: z.RefinementCtx) {
  if (value.startDate && value.endDate && value.endDate < value.startDate) {
    ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'endDate must not be before startDate' });
  }
}

// Unknown keys (legacy extras such as departureLocationInMap, or `images` on create) are stripped.
export const createTourBody = z
  .object(tourFields)
  .extend({
    description: tourFields.description.optional(),
    location: tourFields.location.optional(),
    departureLocation: tourFields.departureLocation.optional(),
    arrivalLocation: tourFields.arrivalLocation.optional(),
    included: textList.default([]),
    excluded: textList.default([]),
    amenities: textList.default([]),
    tourPlan: textList.default([]),
    maxGuest: tourFields.maxGuest.optional(),
    minAge: tourFields.minAge.optional(),
    cancellationPolicy: cancellationPolicySchema.optional(),
  })
  .superRefine(endNotBeforeStart);
export type CreateTourInput = z.infer<typeof createTourBody>;

const imageUrls = z.array(z.string().max(2000)).max(100);

export const updateTourBody = z
  .object(tourFields)
  .partial()
  .extend({
    /** The existing image URLs to keep; absent = keep them all. */
    images: imageUrls.optional(),
    /** Existing image URLs to remove (their files are deleted after the update). */
    deleteImages: imageUrls.optional(),
  })
  .superRefine(endNotBeforeStart);
export type UpdateTourInput = z.infer<typeof updateTourBody>;

export const slugParams = z.object({ slug: z.string().min(1).max(200) });
