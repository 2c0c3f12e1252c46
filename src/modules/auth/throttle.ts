import { eq, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { authThrottle } from '../../db/schema/index.js';
import { type AppError, rateLimited } from '../../lib/errors.js';

/**
 * Per-account counters in the `auth_throttle` table, so every instance sees the same counts. A policy turns
 * the number of hits inside its window into a wait before the next attempt is accepted. The wait is computed
 * in the statement that counts the hit, so no two requests can both take the last free try.
 */
export interface ThrottlePolicy {
  /** Hits older than this (since the last hit) are forgotten. */
  windowSeconds: number;
  /** The hit that first blocks the key. */
  blockFromHit: number;
  /** The wait after that hit; each further hit doubles it, up to `maxDelaySeconds`. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  message: string;
}

/** Sign-in failures: five free tries, then 30 s, 1 min, 2 min ... up to 15 min between tries. */
export const LOGIN_FAILURES: ThrottlePolicy = {
  windowSeconds: 3600,
  blockFromHit: 5,
  firstDelaySeconds: 30,
  maxDelaySeconds: 900,
  message: 'Too many failed sign-in attempts, try again later',
};

/** One code per minute per address. */
export const OTP_RESEND: ThrottlePolicy = {
  windowSeconds: 3600,
  blockFromHit: 1,
  firstDelaySeconds: 60,
  maxDelaySeconds: 60,
  message: 'An OTP was sent recently, wait before asking for another one',
};

/** Three reset mails per quarter hour per address. */
export const RESET_REQUESTS: ThrottlePolicy = {
  windowSeconds: 900,
  blockFromHit: 3,
  firstDelaySeconds: 900,
  maxDelaySeconds: 900,
  message: 'Too many password reset requests, try again later',
};

export const throttleKey = (
  purpose: 'login' | 'otp-send' | 'forgot-password' | 'change-password',
  id: string,
) => `${purpose}:${id}`;

/** A policy's constants go into the SQL text, so a prepared statement keeps one text per policy. */
const constant = (n: number) => sql.raw(String(Math.trunc(n)));

/** The key's hit count once this hit is counted: the window starts again when the last hit is older than it. */
const hitsAfterThisOne = (policy: ThrottlePolicy, now: Date | Placeholder) =>
  sql<number>`case when ${authThrottle.lastFailureAt} is null
      or ${authThrottle.lastFailureAt} < ${now}::timestamptz - make_interval(secs => ${constant(policy.windowSeconds)})
    then 1 else ${authThrottle.failures} + 1 end`;

/** Until when a key with `hits` hits is blocked (null: it is not). */
const blockedUntilAfter = (policy: ThrottlePolicy, hits: SQL, now: Date | Placeholder) =>
  sql<Date | null>`case when ${hits} < ${constant(policy.blockFromHit)} then null::timestamptz
    else ${now}::timestamptz + make_interval(secs => least(${constant(policy.maxDelaySeconds)},
      ${constant(policy.firstDelaySeconds)} * power(2, least(${hits} - ${constant(policy.blockFromHit)}, 20))))
    end`;

/**
 * Counts one hit on the key and blocks it for the wait its count earns, in one statement. With `onlyIfFree`,
 * a key blocked at `now` is left as it is and the statement returns no row: the attempt was not reserved.
 */
export function countHitStatement(
  db: Executor,
  key: string | Placeholder,
  now: Date | Placeholder,
  policy: ThrottlePolicy,
  options: { onlyIfFree: boolean },
) {
  const hits = hitsAfterThisOne(policy, now);
  return db
    .insert(authThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: blockedUntilAfter(policy, sql`1`, now) })
    .onConflictDoUpdate({
      target: authThrottle.key,
      set: {
        failures: hits,
        lastFailureAt: sql`${now}::timestamptz`,
        blockedUntil: blockedUntilAfter(policy, hits, now),
      },
      setWhere: options.onlyIfFree
        ? sql`${authThrottle.blockedUntil} is null or ${authThrottle.blockedUntil} <= ${now}::timestamptz`
        : undefined,
    })
    .returning({ hits: authThrottle.failures });
}

/** The wait a key earns with its `hits`-th hit (0: it is not blocked); the same rule as the SQL above. */
export function delayAfterHits(policy: ThrottlePolicy, hits: number): number {
  if (hits < policy.blockFromHit) return 0;
  return Math.min(
    policy.maxDelaySeconds,
    policy.firstDelaySeconds * 2 ** Math.min(hits - policy.blockFromHit, 20),
  );
}

/** Seconds until the key accepts another attempt (0 when it is not blocked). */
export async function secondsBlocked(db: Executor, key: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ blockedUntil: authThrottle.blockedUntil })
    .from(authThrottle)
    .where(eq(authThrottle.key, key))
    .limit(1);
  const blockedUntil = row?.blockedUntil;
  return blockedUntil && blockedUntil > now ? (blockedUntil.getTime() - now.getTime()) / 1000 : 0;
}

/** The 429 (with Retry-After) for a key whose attempt was refused. */
export async function throttledError(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now: Date,
): Promise<AppError> {
  return rateLimited(await secondsBlocked(db, key, now), policy.message);
}

/** Throws 429 with Retry-After while the key is blocked. */
export async function assertNotThrottled(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now: Date,
): Promise<void> {
  const wait = await secondsBlocked(db, key, now);
  if (wait > 0) throw rateLimited(wait, policy.message);
}

/**
 * Takes one try from the key before the work it guards (a password hash, a mail), or throws 429 while the key
 * is blocked. Parallel requests take turns on the key's row, so at most the policy's free tries get through.
 */
export async function reserveAttempt(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now: Date,
): Promise<void> {
  const reserved = await countHitStatement(db, key, now, policy, { onlyIfFree: true });
  if (reserved.length === 0) throw await throttledError(db, key, policy, now);
}

/** Counts one hit (atomic across instances) and blocks the key for the delay the policy gives. */
export async function recordHit(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now: Date,
): Promise<number> {
  const [row] = await countHitStatement(db, key, now, policy, { onlyIfFree: false });
  return row?.hits ?? 1;
}

export async function clearThrottle(db: Executor, key: string): Promise<void> {
  await db.delete(authThrottle).where(eq(authThrottle.key, key));
}
