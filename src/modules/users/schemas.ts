import { z } from 'zod';
import { IS_ACTIVE, ROLES } from '../../db/schema/index.js';
import { listQuerySchema } from '../../lib/list-query.js';
import { passwordSchema } from '../../lib/password-policy.js';

/** Bangladesh mobile numbers as the legacy API accepted them: `+8801XXXXXXXXX` or `01XXXXXXXXX`. */
export const BD_PHONE = /^(?:\+88)?01\d{9}$/;

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
const phoneSchema = z
  .string()
  .trim()
  .regex(BD_PHONE, 'Phone number must be a valid Bangladesh mobile number: +8801XXXXXXXXX or 01XXXXXXXXX');
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
