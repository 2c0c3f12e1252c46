import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Phone numbers are kept in one form, E.164 (`+8801712345678`), so a manifest, a search or a gateway sees the
 * same number however it was typed. The legacy API took Bangladesh mobile numbers only, as `01XXXXXXXXX` or
 * `+8801XXXXXXXXX`; those forms are still accepted, and so are spaces, dashes and the `880`/`00880` prefixes.
 * The full metadata (`/max`) is what tells a mobile number from a landline.
 */
export const PHONE_REGION = 'BD';

export const PHONE_RULE =
  'Phone number must be a valid Bangladesh mobile number: +8801XXXXXXXXX or 01XXXXXXXXX';

/** The number in E.164 when it is a valid Bangladesh mobile number, else undefined. */
export function normalisePhone(typed: string): string | undefined {
  // Long input is no number; the bound keeps the parser's work small whatever a client sends.
  if (typed.length > 32) return undefined;
  const parsed = parsePhoneNumberFromString(typed, PHONE_REGION);
  if (!parsed || parsed.country !== PHONE_REGION || !parsed.isValid()) return undefined;
  return parsed.getType() === 'MOBILE' ? parsed.number : undefined;
}
