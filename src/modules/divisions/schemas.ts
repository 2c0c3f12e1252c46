import { z } from 'zod';
import { isId } from '../../lib/ids.js';
import { listQuerySchema } from '../../lib/list-query.js';

export const divisionSchema = z.object({
  _id: z.string(),
  name: z.string(),
  slug: z.string(),
  thumbnail: z.string().nullable(),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DivisionDto = z.infer<typeof divisionSchema>;

/** With `fields`, any field but `_id` may be absent. */
export const divisionListItemSchema = divisionSchema.partial().required({ _id: true });

export const DIVISION_FILTERS = ['_id', 'name', 'slug'] as const;
export const divisionListQuery = listQuerySchema(DIVISION_FILTERS);

const name = z.string().trim().min(1, 'name is required').max(100);
const description = z.string().trim().max(5000).nullable();

// Unknown keys (e.g. a browser File serialised as `file: {}`) are stripped, as legacy clients expect.
export const createDivisionBody = z.object({ name, description: description.optional() });
export type CreateDivisionInput = z.infer<typeof createDivisionBody>;

export const updateDivisionBody = z.object({ name: name.optional(), description: description.optional() });
export type UpdateDivisionInput = z.infer<typeof updateDivisionBody>;

export const divisionIdParams = z.object({
  id: z.string().refine(isId, 'id must be a valid id'),
});
export const divisionSlugParams = z.object({ slug: z.string().min(1).max(200) });
