import { z } from 'zod';
import { WAITLIST_STATUSES } from '../../db/schema/index.js';
import { isId } from '../../lib/ids.js';

const id = (field: string) => z.string().max(200).refine(isId, `${field} must be a valid id`);

export const waitlistEntrySchema = z.object({
  _id: z.string(),
  departure: z.string(),
  user: z.string(),
  guestCount: z.number().int(),
  status: z.enum(WAITLIST_STATUSES),
  /** 1 for the next traveller to get an offer; null once the entry no longer waits. */
  position: z.number().int().nullable(),
  /** The offer's booking (PENDING until paid), once one was made. */
  booking: z.string().nullable(),
  offeredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WaitlistEntryDto = z.infer<typeof waitlistEntrySchema>;

export const joinWaitlistBody = z.object({
  guestCount: z
    .number({ message: 'guestCount must be a number' })
    .int('guestCount must be a whole number')
    .min(1, 'guestCount must be at least 1')
    .max(1000, 'guestCount must be at most 1000'),
});
export type JoinWaitlistInput = z.infer<typeof joinWaitlistBody>;

export const waitlistListQuery = z
  .object({
    status: z
      .enum(WAITLIST_STATUSES, { message: `status must be one of ${WAITLIST_STATUSES.join(', ')}` })
      .optional(),
    page: z.string().max(12).optional(),
    limit: z.string().max(12).optional(),
  })
  .loose();
export type WaitlistListQuery = z.infer<typeof waitlistListQuery>;

export const departureIdParams = z.object({ id: id('id') });
export const entryIdParams = z.object({ id: id('id') });
