import { z } from 'zod';
import { DEPARTURE_STATUSES } from '../../db/schema/index.js';
import { isId } from '../../lib/ids.js';
import { hasAtMostTwoDecimals } from '../../lib/money.js';
import { isoDate, isoDateUpTo } from '../tours/schemas.js';

/** Seats a new departure may have; migrated departures may be unlimited (null), new ones never. */
export const MAX_DEPARTURE_CAPACITY = 1000;
/** Departures one request may create. */
export const MAX_DEPARTURES_PER_REQUEST = 100;

const id = (field: string) => z.string().max(200).refine(isId, `${field} must be a valid id`);

export const departureSchema = z.object({
  _id: z.string(),
  tour: z.string(),
  startDate: z.string(),
  endDate: z.string(),
  /** Null only for departures carried over from tours without a maxGuest (unlimited). */
  capacity: z.number().int().nullable(),
  bookedSeats: z.number().int(),
  availableSeats: z.number().int().nullable(),
  /** Per guest, in major units: the departure's own price, else the tour's costFrom (null when neither). */
  price: z.number().nullable(),
  currency: z.string(),
  status: z.enum(DEPARTURE_STATUSES),
  guide: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DepartureDto = z.infer<typeof departureSchema>;

const capacity = z
  .number()
  .int('capacity must be a whole number')
  .min(1, 'capacity must be at least 1')
  .max(MAX_DEPARTURE_CAPACITY, `capacity must be at most ${MAX_DEPARTURE_CAPACITY}`);
const price = z
  .number()
  .min(0, 'price must not be negative')
  .max(100_000_000)
  .refine(hasAtMostTwoDecimals, 'price must have at most 2 decimals');

function endNotBeforeStart(value: { startDate?: Date; endDate?: Date }, ctx: z.RefinementCtx) {
  if (value.startDate && value.endDate && value.endDate < value.startDate) {
    ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'endDate must not be before startDate' });
  }
}

const departureFields = {
  startDate: isoDate('startDate'),
  endDate: isoDate('endDate'),
  /** Default: the tour's maxGuest. */
  capacity: capacity.optional(),
  /** Default (absent or null): the tour's costFrom. */
  price: price.nullable().optional(),
  guide: id('guide').nullable().optional(),
};

export const newDepartureBody = z.object(departureFields).superRefine(endNotBeforeStart);
export type NewDepartureInput = z.infer<typeof newDepartureBody>;

/**
 * One departure, or `{departures: [...]}` created together. One object rather than a union, so that a bad
 * field is named in the answer whichever form was sent.
 */
export const createDeparturesBody = z
  .object({
    departures: z
      .array(newDepartureBody)
      .min(1, 'departures must not be empty')
      .max(MAX_DEPARTURES_PER_REQUEST, `at most ${MAX_DEPARTURES_PER_REQUEST} departures at a time`)
      .optional(),
    ...departureFields,
    startDate: departureFields.startDate.optional(),
    endDate: departureFields.endDate.optional(),
  })
  .superRefine((value, ctx) => {
    const single = (Object.keys(departureFields) as (keyof typeof departureFields)[]).filter(
      (key) => value[key] !== undefined,
    );
    if (value.departures !== undefined) {
      if (single.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: [single[0]!],
          message: 'send one departure or a `departures` list, not both',
        });
      }
      return;
    }
    for (const key of ['startDate', 'endDate'] as const) {
      if (value[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required` });
    }
    endNotBeforeStart(value, ctx);
  });
export type CreateDeparturesInput = z.infer<typeof createDeparturesBody>;

export const updateDepartureBody = z
  .object({
    startDate: isoDate('startDate'),
    endDate: isoDate('endDate'),
    capacity,
    price: price.nullable(),
    /** CANCELLED only through the cancel route, which takes care of the bookings. */
    status: z.enum(['SCHEDULED', 'CLOSED'], { message: 'status must be SCHEDULED or CLOSED' }),
    guide: id('guide').nullable(),
  })
  .partial()
  .superRefine(endNotBeforeStart);
export type UpdateDepartureInput = z.infer<typeof updateDepartureBody>;

export const cancelDepartureBody = z.object({
  reason: z
    .string({ message: 'reason is required' })
    .trim()
    .min(1, 'reason is required')
    .max(500, 'reason must be at most 500 characters'),
});
export type CancelDepartureInput = z.infer<typeof cancelDepartureBody>;

export const departureListQuery = z
  .object({
    /** Departures starting at or after this instant; default now (upcoming). */
    from: isoDate('from').optional(),
    /** Departures starting up to this instant (a date alone: up to the end of that day, UTC). */
    to: isoDateUpTo('to').optional(),
    status: z.enum(DEPARTURE_STATUSES).optional(),
    page: z.string().max(12).optional(),
    limit: z.string().max(12).optional(),
  })
  .loose();
export type DepartureListQuery = z.infer<typeof departureListQuery>;

export const tourIdParams = z.object({ tourId: id('tourId') });
export const departureIdParams = z.object({ id: id('id') });
