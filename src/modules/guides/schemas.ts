import { z } from 'zod';
import { DEPARTURE_STATUSES } from '../../db/schema/index.js';
import { isId } from '../../lib/ids.js';

const id = (field: string) => z.string().max(200).refine(isId, `${field} must be a valid id`);

export const departureIdParams = z.object({ id: id('id') });
export const bookingIdParams = z.object({ bookingId: id('bookingId') });

export const guideDepartureListQuery = z
  .object({
    page: z.string().max(12).optional(),
    limit: z.string().max(12).optional(),
  })
  .loose();
export type GuideDepartureListQuery = z.infer<typeof guideDepartureListQuery>;

const tourRef = z.object({ _id: z.string(), title: z.string(), slug: z.string() });

export const guideDepartureSchema = z.object({
  _id: z.string(),
  tour: tourRef,
  startDate: z.string(),
  endDate: z.string(),
  status: z.enum(DEPARTURE_STATUSES),
  /** Null only for departures carried over from tours without a maxGuest (unlimited). */
  capacity: z.number().int().nullable(),
  /** Seats held by unpaid bookings plus seats sold. */
  bookedSeats: z.number().int(),
  paidBookings: z.number().int(),
  paidGuests: z.number().int(),
  checkedInBookings: z.number().int(),
  checkedInGuests: z.number().int(),
});
export type GuideDepartureDto = z.infer<typeof guideDepartureSchema>;

export const manifestEntrySchema = z.object({
  /** The booking's id. */
  _id: z.string(),
  /** The traveller who booked (and paid). */
  name: z.string(),
  phone: z.string().nullable(),
  email: z.string(),
  guests: z.number().int(),
  checkedInAt: z.string().nullable(),
  /** Who checked the booking in; null before check-in (or when that account was removed). */
  checkedInBy: z.object({ _id: z.string(), name: z.string() }).nullable(),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const manifestSchema = z.object({
  departure: z.object({
    _id: z.string(),
    tour: tourRef,
    startDate: z.string(),
    endDate: z.string(),
    status: z.enum(DEPARTURE_STATUSES),
    guide: z.string().nullable(),
  }),
  bookings: z.array(manifestEntrySchema),
  totals: z.object({
    bookings: z.number().int(),
    guests: z.number().int(),
    checkedInBookings: z.number().int(),
    checkedInGuests: z.number().int(),
  }),
});
export type ManifestDto = z.infer<typeof manifestSchema>;

export const manifestQuery = z.object({
  format: z.enum(['json', 'csv'], { message: 'format must be json or csv' }).optional(),
});

export const checkInSchema = manifestEntrySchema.extend({ departure: z.string() });
export type CheckInDto = z.infer<typeof checkInSchema>;
