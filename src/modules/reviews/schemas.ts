import { z } from 'zod';
import { MAX_REVIEW_COMMENT } from '../../db/schema/index.js';
import { listMetaSchema, successSchema } from '../../lib/envelope.js';
import { isId } from '../../lib/ids.js';
import { listQuerySchema } from '../../lib/list-query.js';
import { tourRatingSchema } from '../tours/rating.js';

const idOf = (name: string) =>
  z
    .string()
    .max(200)
    .refine(isId, { message: `${name} must be a valid id` });

export const tourIdParams = z.object({ tourId: idOf('tourId') });
export const reviewIdParams = z.object({ id: idOf('id') });

const rating = z
  .number({ error: 'rating must be a whole number from 1 to 5' })
  .int('rating must be a whole number from 1 to 5')
  .min(1, 'rating must be a whole number from 1 to 5')
  .max(5, 'rating must be a whole number from 1 to 5');

// A blank comment is no comment.
const comment = z
  .string()
  .trim()
  .max(MAX_REVIEW_COMMENT, `comment must be at most ${MAX_REVIEW_COMMENT} characters`)
  .transform((text) => (text === '' ? null : text));

export const createReviewBody = z.object({
  rating,
  comment: comment.nullish(),
  booking: idOf('booking'),
});
export type CreateReviewInput = z.infer<typeof createReviewBody>;

export const updateReviewBody = z.object({
  /** The author's, within 30 days of writing the review. */
  rating: rating.optional(),
  comment: comment.nullish(),
  /** Admins only. */
  hidden: z.boolean().optional(),
});
export type UpdateReviewInput = z.infer<typeof updateReviewBody>;

export const reviewListQuery = listQuerySchema([])
  .omit({ searchTerm: true })
  .extend({
    /** Admins only: `true` lists the hidden reviews, `false` the visible ones; either shows `hidden`. */
    hidden: z.enum(['true', 'false'], { message: 'hidden must be true or false' }).optional(),
  });
export type ReviewListQuery = z.infer<typeof reviewListQuery>;

export const reviewSchema = z.object({
  _id: z.string(),
  tour: z.string(),
  booking: z.string(),
  user: z.object({ _id: z.string(), name: z.string(), picture: z.string().nullable() }),
  rating: z.number().int().meta({ example: 5 }),
  comment: z.string().nullable().meta({
    example: 'Our forest guide spotted a crocodile and two kingfishers; the boat food was excellent.',
  }),
  /** Admin views only: hidden by an admin, or because its booking was cancelled and refunded in full. */
  hidden: z.boolean().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ReviewDto = z.infer<typeof reviewSchema>;

/** The flat list shape of GET /tour, its meta carrying the tour's rating too. */
export const reviewListSchema = successSchema(z.array(reviewSchema.partial().required({ _id: true }))).extend(
  {
    meta: listMetaSchema.extend(tourRatingSchema.shape),
  },
);
