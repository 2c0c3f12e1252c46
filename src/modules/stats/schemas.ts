import { z } from 'zod';

/*
 * Field names follow the legacy API (clients read them). A few clients read slightly different names
 * for the same figure (totalActiveUser, totalTourByTourTypes, bookingLastThirty, avgGuestPerBooking,
 * avgPaymentAmount[0].avgPaymentAmount), so those are returned as aliases with the same value.
 */

const count = z.number().int().nonnegative();
const keyedCount = z.object({ _id: z.string(), count });
const dayCount = z.object({ date: z.string().describe('UTC day, YYYY-MM-DD'), count });

const bookedTour = z.object({
  _id: z.string(),
  bookingCount: count,
  tour: z.object({ title: z.string(), slug: z.string() }),
});

const conversion = z.object({
  createdBookings: count,
  paidBookings: count.describe('Bookings that are COMPLETE (paid)'),
  rate: z.number().describe('paidBookings / createdBookings, 4 decimals; 0 when nothing was created'),
});

const refundFigures = z.object({
  count: count.describe('Refunds completed (REFUNDED)'),
  amount: z.number().describe('Money given back by completed refunds, major units'),
  byStatus: z
    .array(z.object({ _id: z.string(), count, amount: z.number() }))
    .describe('Every refund by status (REQUESTED, PROCESSING, REFUNDED, FAILED) with its amount'),
});

const cancellationFigures = z.object({
  total: count.describe('Bookings cancelled'),
  afterPayment: count.describe('Of them, bookings cancelled after their payment was received'),
});

export const userStatsSchema = z.object({
  totalUsers: count,
  totalActiveUsers: count,
  totalActiveUser: count,
  totalInActiveUsers: count,
  totalBlockedUsers: count,
  totalDeletedUsers: count,
  newUsersInLast7Days: count,
  newUsersInLast30Days: count,
  usersByRole: z.array(keyedCount),
});

export const tourStatsQuerySchema = z.object({
  upcomingLimit: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(10)
    .describe('How many upcoming tours (soonest first) to report occupancy for'),
});

export const tourStatsSchema = z.object({
  totalTour: count,
  totalTourByTourType: z.array(keyedCount),
  totalTourByTourTypes: z.array(keyedCount),
  avgTourCost: z.array(z.object({ _id: z.null(), avgCostFrom: z.number() })),
  totalTourByDivision: z.array(keyedCount),
  totalHighestBookedTour: z.array(bookedTour),
  upcomingTourOccupancy: z.array(
    z.object({
      _id: z.string(),
      title: z.string(),
      slug: z.string(),
      startDate: z.string(),
      capacity: count.nullable().describe('Seat capacity; null = unlimited'),
      seatsSold: count,
      seatsHeld: count.describe(
        'Seats held by PENDING bookings (until paid or released by the hold sweeper)',
      ),
      occupancy: z.number().nullable().describe('seatsSold / capacity, 4 decimals; null when unlimited'),
    }),
  ),
});

export const periodQuerySchema = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(90)
    .default(30)
    .describe('Length of the per-day series in UTC days, today included'),
});

export const bookingStatsSchema = z.object({
  totalBooking: count,
  totalBookingByStatus: z.array(keyedCount),
  bookingsPerTour: z.array(bookedTour),
  avgGuestCountPerBooking: z.number(),
  avgGuestPerBooking: z.number(),
  bookingsLast7Days: count,
  bookingsLast30Days: count,
  bookingLastThirty: count,
  totalBookingByUniqueUsers: count,
  bookingsPerDay: z.array(dayCount),
  conversion,
  conversionLast30Days: conversion,
  cancellations: cancellationFigures,
  refunds: refundFigures,
});

export const paymentStatsSchema = z.object({
  totalPayment: count,
  totalPaymentByStatus: z.array(keyedCount),
  totalRevenue: z
    .array(z.object({ _id: z.null(), totalRevenue: z.number() }))
    .describe('What was paid less what refunds gave back, major units'),
  avgPaymentAmount: z.array(
    z.object({ _id: z.null(), avgPaymentAMount: z.number(), avgPaymentAmount: z.number() }),
  ),
  paymentGatewayData: z.array(keyedCount),
  currency: z.string(),
  revenuePerDay: z.array(
    z.object({
      date: z.string().describe('UTC day, YYYY-MM-DD'),
      revenue: z
        .number()
        .describe('Sum of PAID payments paid that day less what refunds gave back of them, major units'),
      payments: count,
    }),
  ),
  cancellations: cancellationFigures,
  refunds: refundFigures,
});

export type UserStats = z.infer<typeof userStatsSchema>;
export type TourStats = z.infer<typeof tourStatsSchema>;
export type BookingStats = z.infer<typeof bookingStatsSchema>;
export type PaymentStats = z.infer<typeof paymentStatsSchema>;
