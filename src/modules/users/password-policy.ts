import { z } from 'zod';
import { validationError } from '../../lib/errors.js';
import { isCommonPassword } from './common-passwords.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** The one password policy (registration, change, set, reset): 8–128 characters, not a common password. */
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `Password must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `Password must be at most ${PASSWORD_MAX} characters`)
  .refine((p) => !isCommonPassword(p), 'This password is too common, choose another one');

/** The same policy as a check of its own, for a route that must look at something else first (400 naming `field`). */
export function assertPasswordPolicy(field: string, password: string): void {
  const result = passwordSchema.safeParse(password);
  if (!result.success) throw validationError(field, result.error.issues[0]?.message ?? 'Invalid password');
}
