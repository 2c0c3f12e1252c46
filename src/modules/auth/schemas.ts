import { z } from 'zod';
import { listQuerySchema } from '../../lib/list-query.js';
import { passwordSchema } from '../../lib/password-policy.js';
import { emailSchema, publicUser } from '../users/schemas.js';

/** Sign-in checks no policy: accounts may hold passwords from before the current one. */
const anyPassword = z.string().min(1, 'Password is required').max(1024, 'Password is too long');

export const loginBody = z.object({ email: emailSchema, password: anyPassword });
export type LoginInput = z.infer<typeof loginBody>;

/** Browsers send the refresh cookie and no body; API clients send `{refreshToken}`. */
export const refreshBody = z
  .object({ refreshToken: z.string().min(1).max(4096).optional() })
  .optional()
  .nullable();

export const changePasswordBody = z.object({
  oldPassword: z.string().min(1, 'Old password is required').max(1024),
  newPassword: passwordSchema,
});
export const setPasswordBody = z.object({ password: passwordSchema });
export const forgotPasswordBody = z.object({ email: emailSchema });
export const resetPasswordBody = z.object({
  id: z.uuid('id must be a valid user id'),
  // The policy is checked after the reset token, so guessing tokens never costs a hash nor learns the policy.
  newPassword: z
    .string()
    .min(1, 'New password is required')
    .max(1024, 'Password is too long')
    .describe('8–128 characters, not a common password (checked once the reset token is accepted)'),
});

export const sessionIdParams = z.object({ id: z.string().max(100) });

export const tokenPair = z.object({ accessToken: z.string(), refreshToken: z.string() });
export const loginResult = tokenPair.extend({ user: publicUser });

export const sessionView = z.object({
  _id: z.string(),
  device: z.string(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  provider: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  expiresAt: z.string(),
  current: z.boolean(),
});
export type SessionView = z.infer<typeof sessionView>;

export const SECURITY_EVENT_FILTERS = ['type', 'userId', 'actorId'] as const;
export const securityEventListQuery = listQuerySchema(SECURITY_EVENT_FILTERS);
export const securityEvent = z.object({
  _id: z.string(),
  type: z.string(),
  userId: z.string().nullable(),
  actorId: z.string().nullable(),
  email: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type SecurityEventView = z.infer<typeof securityEvent>;
