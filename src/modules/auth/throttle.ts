import type { Executor } from '../../db/client.js';
import { type AppError, rateLimited } from '../../lib/errors.js';
import { countHitStatement, type ThrottlePolicy, throttleBlockedUntil } from './repo.js';

/*
 * Per-account throttles: the policies and how they are applied. The counters and the statements that count
 * live in the repository (`auth_throttle`).
 */

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
  const blockedUntil = await throttleBlockedUntil(db, key);
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
