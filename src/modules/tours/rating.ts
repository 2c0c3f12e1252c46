import { z } from 'zod';

/** A tour's rating as every tour shape shows it: visible reviews only. */
export const tourRatingSchema = z.object({
  /** Mean of the visible reviews' ratings to one decimal; null while there are none. */
  average: z.number().nullable().meta({ example: 4.3 }),
  count: z.number().int().meta({ example: 12 }),
});
export type TourRating = z.infer<typeof tourRatingSchema>;

/** The mean to one decimal (halves round up), from the kept sum and count; never a recount of the reviews. */
export function tourRating(sum: number, count: number): TourRating {
  return { average: count === 0 ? null : Math.round((sum * 10) / count) / 10, count };
}
