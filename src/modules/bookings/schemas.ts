import { z } from 'zod';
import { BOOKING_STATUSES, PAYMENT_STATUSES, REFUND_STATUSES } from '../../db/schema/index.js';
import { nestedListSchema, successSchema } from '../../lib/envelope.js';
import { isId } from '../../lib/ids.js';
import { listQuerySchema } from '../../lib/list-query.js';
import { hasAtMostTwoDecimals } from '../../lib/money.js';
import { tourRatingSchema } from '../tours/rating.js';

export const MAX_GUESTS_PER_BOOKING = 100;

export const idParam = (name: string) =>
  z
    .string()
    .max(200)
    .refine(isId, { message: `${name} must be a valid id` });

export const createBookingBody = z.object({
  tour: idParam('tour'),
  guestCount: z.number().int().min(1).max(MAX_GUESTS_PER_BOOKING),
  /** The departure of `tour` to book; default its next bookable departure. */
  departure: idParam('departure').optional(),
});
export type CreateBookingInput = z.infer<typeof createBookingBody>;

export const idempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'Idempotency-Key must be printable ASCII without spaces')
      .optional(),
  })
  // Loose: the validated object replaces request.headers, which must keep Authorization and cookies.
  .loose();

export const bookingIdParams = z.object({ bookingId: idParam('bookingId') });

export const changeStatusBody = z.object({ status: z.enum(BOOKING_STATUSES) });

export const cancelBookingBody = z
  .object({
    reason: z.string().trim().min(1, 'reason must not be empty').max(500).optional(),
    /** Admins only: the refund in major units, instead of what the cancellation policy gives. */
    refundAmount: z
      .number()
      .min(0, 'refundAmount must not be negative')
      .max(100_000_000)
      .refine(hasAtMostTwoDecimals, 'refundAmount must have at most 2 decimals')
      .optional(),
  })
  .superRefine((body, ctx) => {
    if (body.refundAmount !== undefined && !body.reason) {
      ctx.addIssue({
        code: 'custom',
        path: ['reason'],
        message: 'reason is required when refundAmount is given',
      });
    }
  })
  // A client may POST without a body: then nothing but the cancellation is asked for.
  .nullish();
export type CancelBookingInput = z.infer<typeof cancelBookingBody>;

const isoDate = z.string();

/** The booked tour; `startDate` and `endDate` are the booked departure's. */
export const bookingTourSchema = z.object({
  _id: z.string(),
  title: z.string(),
  slug: z.string(),
  costFrom: z.number().nullable(),
  images: z.array(z.string()),
  location: z.string().nullable(),
  startDate: isoDate.nullable(),
  endDate: isoDate.nullable(),
  rating: tourRatingSchema,
});

export const bookingUserSchema = z.object({
  _id: z.string(),
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
});

export const bookingPaymentSchema = z.object({
  _id: z.string(),
  booking: z.string(),
  transactionId: z.string(),
  amount: z.number(),
  /** Given back so far by completed refunds; the payment is REFUNDED once it is the whole amount. */
  refundedAmount: z.number(),
  currency: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  /** Admin views only: a short-lived download link once the invoice exists. */
  invoiceUrl: z.string().nullable().optional(),
});

/** Money given back for a booking, carried out by the payment gateway after the cancellation. */
export const refundSchema = z.object({
  _id: z.string(),
  booking: z.string(),
  payment: z.string(),
  amount: z.number(),
  currency: z.string(),
  status: z.enum(REFUND_STATUSES),
  reason: z.string(),
  requestedBy: z.string().nullable().describe('The user who asked for it; null when the system did'),
  gatewayRefundId: z.string().nullable(),
  failureReason: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

const policySchema = z.array(z.object({ hoursBefore: z.number().int(), refundPercent: z.number() }));

const bookingCore = {
  _id: z.string(),
  /** The departure booked (the tour's run whose seats are held). */
  departure: z.string(),
  status: z.enum(BOOKING_STATUSES),
  guestCount: z.number().int(),
  unitPrice: z.number(),
  amount: z.number(),
  currency: z.string(),
  holdExpiresAt: isoDate,
  createdAt: isoDate,
  updatedAt: isoDate,
};

/** A booking with tour, user and payment populated (create response, by id, admin list). */
export const bookingDetailSchema = z.object({
  ...bookingCore,
  tour: bookingTourSchema,
  user: bookingUserSchema,
  payment: bookingPaymentSchema.nullable(),
  /** The cancellation policy: the tour's until the booking is paid, then the one in force when it was paid. */
  cancellationPolicy: policySchema,
  /**
   * What cancelling now would refund, in major units (0 while nothing is paid); null when the owner can no
   * longer cancel (cancelled, failed, under review, or the trip has started).
   */
  refundIfCancelledNow: z.number().nullable(),
  /** Admin views only: why an operator should look at this booking (e.g. paid after the hold expired). */
  needsReview: z.string().nullable().optional(),
  /** Admin views only: the booking's refunds, oldest first. */
  refunds: z.array(refundSchema).optional(),
});
export type BookingDetail = z.infer<typeof bookingDetailSchema>;

/** A booking with references as id strings (the caller's own list, as legacy clients render them). */
export const bookingSummarySchema = z.object({
  ...bookingCore,
  tour: z.string(),
  user: z.string(),
  payment: z.string().nullable(),
});
export type BookingSummary = z.infer<typeof bookingSummarySchema>;

export const ADMIN_LIST_FILTERS = ['_id', 'status', 'tour', 'departure', 'user'] as const;
export const MY_LIST_FILTERS = ['_id', 'status', 'tour', 'departure'] as const;
export const adminListQuery = listQuerySchema(ADMIN_LIST_FILTERS);
export const myListQuery = listQuerySchema(MY_LIST_FILTERS);

export const PROJECTABLE = [
  '_id',
  'status',
  'guestCount',
  'unitPrice',
  'amount',
  'currency',
  'holdExpiresAt',
  'createdAt',
  'updatedAt',
  'tour',
  'departure',
  'user',
  'payment',
  'cancellationPolicy',
  'refundIfCancelledNow',
  'needsReview',
  'refunds',
] as const;

export const createBookingResponse = successSchema(
  z.object({ paymentUrl: z.string(), booking: bookingDetailSchema }),
);
export const bookingDetailResponse = successSchema(bookingDetailSchema);
export const cancelBookingResponse = successSchema(
  z.object({ booking: bookingDetailSchema, refund: refundSchema.nullable() }),
);
export const bookingRefundsResponse = successSchema(z.array(refundSchema));
export const adminListResponse = nestedListSchema(bookingDetailSchema.partial().required({ _id: true }));
export const myListResponse = nestedListSchema(bookingSummarySchema.partial().required({ _id: true }));
