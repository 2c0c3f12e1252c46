import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { authThrottle } from '../../db/schema/index.js';
import { rateLimited } from '../../lib/errors.js';

/**
 * Per-account counters in the `auth_throttle` table, so every instance sees the same counts. A policy turns
 * the number of hits inside its window into a wait before the next attempt is accepted.
 */
export interface ThrottlePolicy {
  /** Hits older than this (since the last hit) are forgotten. */
  windowSeconds: number;
  /** Seconds the key stays blocked after its n-th hit in the window (0 = not blocked). */
  delayAfter(hits: number): number;
  message: string;
}

/** Sign-in failures: five free tries, then 30 s, 1 min, 2 min ... up to 15 min between tries. */
export const LOGIN_FAILURES: ThrottlePolicy = {
  windowSeconds: 3600,
  delayAfter: (n) => (n < 5 ? 0 : Math.min(900, 30 * 2 ** (n - 5))),
  message: 'Too many failed sign-in attempts, try again later',
};

/** One code per minute per address. */
export const OTP_RESEND: ThrottlePolicy = {
  windowSeconds: 3600,
  delayAfter: () => 60,
  message: 'An OTP was sent recently, wait before asking for another one',
};

/** Three reset mails per quarter hour per address. */
export const RESET_REQUESTS: ThrottlePolicy = {
  windowSeconds: 900,
  delayAfter: (n) => (n < 3 ? 0 : 900),
  message: 'Too many password reset requests, try again later',
};

export const throttleKey = (
  purpose: 'login' | 'otp-send' | 'forgot-password' | 'change-password',
  id: string,
) => `${purpose}:${id}`;

const secondsUntil = (blockedUntil: Date | null | undefined, now: Date) =>
  blockedUntil && blockedUntil > now ? (blockedUntil.getTime() - now.getTime()) / 1000 : 0;

/** Seconds until the key accepts another attempt (0 when it is not blocked). */
export async function secondsBlocked(db: Executor, key: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ blockedUntil: authThrottle.blockedUntil })
    .from(authThrottle)
    .where(eq(authThrottle.key, key))
    .limit(1);
  return secondsUntil(row?.blockedUntil, now);
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

/** The same check on a key's `blocked_until` already read (null when the key has no row). */
export function assertNotBlocked(
  blockedUntil: Date | null | undefined,
  policy: ThrottlePolicy,
  now: Date,
): void {
  const wait = secondsUntil(blockedUntil, now);
  if (wait > 0) throw rateLimited(wait, policy.message);
}

/** Counts one hit (atomic across instances) and blocks the key for the delay the policy gives. */
export async function recordHit(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now: Date,
): Promise<number> {
  const windowStart = new Date(now.getTime() - policy.windowSeconds * 1000);
  const [row] = await db
    .insert(authThrottle)
    .values({ key, failures: 1, lastFailureAt: now })
    .onConflictDoUpdate({
      target: authThrottle.key,
      set: {
        failures: sql`case when ${authThrottle.lastFailureAt} is null or ${authThrottle.lastFailureAt} < ${windowStart}
          then 1 else ${authThrottle.failures} + 1 end`,
        lastFailureAt: now,
      },
    })
    .returning({ failures: authThrottle.failures });
  const hits = row?.failures ?? 1;
  const delay = policy.delayAfter(hits);
  if (delay > 0) {
    await db
      .update(authThrottle)
      .set({ blockedUntil: new Date(now.getTime() + delay * 1000) })
      .where(eq(authThrottle.key, key));
  }
  return hits;
}

export async function clearThrottle(db: Executor, key: string): Promise<void> {
  await db.delete(authThrottle).where(eq(authThrottle.key, key));
}
