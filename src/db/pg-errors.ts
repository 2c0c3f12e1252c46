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

// Driver errors that mean "the database is not reachable right now": answer 503 and let the client retry.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Query read timeout',
  'Connection terminated unexpectedly',
  'Client was closed and is not queryable',
];

const isSqlState = (code: unknown): code is string =>
  typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || UNAVAILABLE_CODES.has(code));
const saysUnavailable = (message: unknown): message is string =>
  typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m));

/** True for a code (SQLSTATE or driver) that means the database cannot be reached or takes no connections. */
export const isUnavailableCode = (code: string): boolean =>
  UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code === '53300';

/**
 * The PostgreSQL or driver error behind `err`, if any: its SQLSTATE (a lost connection reads as 08006) and
 * constraint.
 */
export function describePgError(
  err: unknown,
): { code?: string; constraint?: string; message?: string } | undefined {
  const found = findPgError(err, (e) => isSqlState(e.code) || saysUnavailable(e.message));
  if (!found) return undefined;
  const message = typeof found.message === 'string' ? found.message : undefined;
  if (isSqlState(found.code)) {
    const constraint = typeof found.constraint === 'string' ? found.constraint : undefined;
    return { code: found.code, constraint, message };
  }
  return { code: '08006', message };
}

/** True when `err` comes from a database that is down or unreachable (the API answers it with 503). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = describePgError(err)?.code;
  return code !== undefined && isUnavailableCode(code);
}
