import { z } from 'zod';

const MAX_REDIRECT_LENGTH = 1024;

/**
 * A path on the front end to return to after sign-in. Only same-site relative paths are accepted:
 * `//host`, `/\host` (browsers read a backslash as a slash), schemes and control characters could all
 * send the user to another site (an open redirect).
 */
export const redirectPathSchema = z
  .string()
  .max(MAX_REDIRECT_LENGTH, `Redirect must be at most ${MAX_REDIRECT_LENGTH} characters`)
  .refine((value) => value.startsWith('/') && !value.startsWith('//'), {
    error: 'Redirect must be a relative path starting with a single "/"',
  })
  .refine((value) => !value.includes('\\'), { error: 'Redirect must not contain a backslash' })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  .refine((value) => !/[\u0000-\u001f\u007f\s]/.test(value), {
    error: 'Redirect must not contain spaces or control characters',
  });

export const startQuery = z.object({
  redirect: redirectPathSchema
    .optional()
    .describe('Front-end path to return to, e.g. `/booking` (default `/`)'),
});

/**
 * What the provider appends to the callback URL. Google adds more (`scope`, `authuser`, `prompt`, `hd`),
 * so unknown keys are let through; openid-client validates the response itself.
 */
export const callbackQuery = z.looseObject({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
  iss: z.string().max(1024).optional(),
});

/** A browser is sent elsewhere: no body. */
export const redirectResponse = z.null().describe('Redirect; see the `Location` header');
