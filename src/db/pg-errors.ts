/** The fields of a PostgreSQL (or driver) error that the app looks at. */
export interface PgErrorFields {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The first of an error and its causes that `matches`: Drizzle and the drivers wrap PostgreSQL's error, a
 * few levels deep at most.
 */
export function findPgError(err: unknown, matches: (e: PgErrorFields) => boolean): PgErrorFields | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as PgErrorFields & { cause?: unknown };
    if (matches(e)) return e;
    current = e.cause;
  }
  return undefined;
}
