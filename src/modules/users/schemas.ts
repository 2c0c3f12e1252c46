import { z } from 'zod';
import { IS_ACTIVE, ROLES } from '../../db/schema/index.js';
import { listQuerySchema } from '../../lib/list-query.js';
import { passwordSchema } from '../../lib/password-policy.js';
import { normalisePhone, PHONE_RULE } from '../../lib/phone.js';

// The format is checked first: a malformed address is "Invalid email address", however short it is.
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email('Invalid email address').max(100, 'Email must be at most 100 characters'));

const nameSchema = z
  .string()
  .trim()
  .min(2, 'Name must be at least 2 characters')
  .max(50, 'Name must be at most 50 characters');
// Stored in E.164 whatever form it was typed in (src/lib/phone.ts).
const phoneSchema = z
  .string()
  .trim()
  .transform((typed, ctx) => {
    const phone = normalisePhone(typed);
    if (phone) return phone;
    ctx.addIssue({ code: 'custom', message: PHONE_RULE });
    return z.NEVER;
  })
  .meta({
    example: '+8801712345678',
    description:
      'A Bangladesh mobile number: 01XXXXXXXXX or +8801XXXXXXXXX, spaces and dashes allowed. Stored and returned ' +
      'in E.164 (+8801XXXXXXXXX).',
  });
const addressSchema = z.string().trim().max(200, 'Address must be at most 200 characters');
const pictureSchema = z.url({ protocol: /^https?$/, error: 'Picture must be an http(s) URL' }).max(2048);

export const registerBody = z.object({
  name: nameSchema,
  email: emailSchema,
  password: passwordSchema,
  phone: phoneSchema.optional(),
  address: addressSchema.optional(),
});
export type RegisterInput = z.infer<typeof registerBody>;

export const updateUserBody = z.object({
  name: nameSchema.optional(),
  phone: phoneSchema.optional(),
  address: addressSchema.optional(),
  picture: pictureSchema.optional(),
  role: z.enum(ROLES).optional(),
  isActive: z.enum(IS_ACTIVE).optional(),
  isDeleted: z.boolean().optional(),
  isVerified: z.boolean().optional(),
});
export type UpdateUserInput = z.infer<typeof updateUserBody>;

export const userIdParams = z.object({ id: z.string().max(100) });

/** A user as every route returns it: never a password or a hash. */
export const publicUser = z.object({
  _id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  phone: z.string().nullable(),
  picture: z.string().nullable(),
  address: z.string().nullable(),
  isDeleted: z.boolean(),
  isActive: z.enum(IS_ACTIVE),
  isVerified: z.boolean(),
  auths: z.array(z.object({ provider: z.string(), providerId: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type PublicUser = z.infer<typeof publicUser>;

export const USER_FILTERS = ['_id', 'role', 'isActive', 'isVerified', 'isDeleted'] as const;
export const userListQuery = listQuerySchema(USER_FILTERS);
export const projectedUser = publicUser.partial().required({ _id: true });
