import { z } from 'zod';
import { isCommonPassword } from './common-passwords.js';
import { validationError } from './errors.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * The one password policy (registration, change, set, reset, the configured super admin): 8–128 characters,
 * not a common password.
 */
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `Password must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `Password must be at most ${PASSWORD_MAX} characters`)
  .refine((p) => !isCommonPassword(p), 'This password is too common, choose another one');

/** Why a password breaks the policy, or undefined when it keeps it (for checks outside a request schema). */
export function passwordPolicyProblem(password: string): string | undefined {
  return passwordSchema.safeParse(password).error?.issues[0]?.message;
}

/** The same policy as a check of its own, for a route that must look at something else first (400 naming `field`). */
export function assertPasswordPolicy(field: string, password: string): void {
  const result = passwordSchema.safeParse(password);
  if (!result.success) throw validationError(field, result.error.issues[0]?.message ?? 'Invalid password');
}
