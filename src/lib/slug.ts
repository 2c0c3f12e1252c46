import slugify from 'slugify';
import { findPgError, UNIQUE_VIOLATION } from '../db/pg-errors.js';

const MAX_SLUG_LENGTH = 80;
const MAX_ATTEMPTS = 6;

/**
 * A readable ASCII slug: accents transliterated, punctuation and spaces collapsed to `-`, lower case.
 * Text with no Latin transliteration (e.g. Bengali script) falls back to `fallback`.
 */
export function toSlug(text: string, fallback: string): string {
  // NFKC first so ligatures and full-width letters become plain letters the transliterator knows.
  const slug = slugify(text.normalize('NFKC'), { lower: true, strict: true, trim: true, locale: 'en' });
  const cut = slug.length > MAX_SLUG_LENGTH ? slug.slice(0, MAX_SLUG_LENGTH).replace(/-[^-]*$/, '') : slug;
  return cut.replace(/^-+|-+$/g, '') || fallback;
}

/** True when `slug` is `base` itself or `base` with a numeric suffix that this module generates. */
export function slugBelongsTo(slug: string, base: string): boolean {
  return slug === base || new RegExp(`^${escapeRegExp(base)}-\\d+$`).test(slug);
}

/** The next free `base-N` given the slugs that already start with `base`. */
export function nextSlug(base: string, taken: readonly string[]): string {
  let highest = taken.includes(base) ? 1 : 0;
  const suffixed = new RegExp(`^${escapeRegExp(base)}-(\\d+)$`);
  for (const slug of taken) {
    const n = Number(suffixed.exec(slug)?.[1] ?? 0);
    if (n > highest) highest = n;
  }
  return highest === 0 ? base : `${base}-${highest + 1}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether the error (or one it wraps) is a PostgreSQL unique violation of one named constraint. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  return findPgError(err, (e) => e.code === UNIQUE_VIOLATION)?.constraint === constraint;
}

export interface UniqueSlugOptions<T> {
  base: string;
  /** Name of the unique index on the slug column. */
  constraint: string;
  /** Slugs already stored that start with `base` (the unique index stays the real guard). */
  taken: (base: string) => Promise<string[]>;
  /** Writes the row with this slug; must run in its own savepoint or statement so a conflict can be retried. */
  write: (slug: string) => Promise<T>;
  /** Slugs never handed out because a route path already uses them. */
  reserved?: readonly string[];
}

/**
 * Writes with the first free slug derived from `base`. Two concurrent writers can pick the same
 * candidate; the loser sees the unique violation and tries the next free one.
 */
export async function writeWithUniqueSlug<T>(options: UniqueSlugOptions<T>): Promise<T> {
  const { base, constraint, taken, write, reserved = [] } = options;
  let candidate = reserved.includes(base) ? `${base}-2` : base;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(candidate);
    } catch (err) {
      if (!isUniqueViolation(err, constraint) || attempt === MAX_ATTEMPTS) throw err;
      candidate =
        attempt < MAX_ATTEMPTS - 1
          ? nextSlug(base, [...(await taken(base)), ...reserved, candidate])
          : // Heavy contention on one name: a random suffix ends the race.
            `${base}-${Math.random().toString(36).slice(2, 8)}`;
    }
  }
}
