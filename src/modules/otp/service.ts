import { randomInt } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { ClientInfo } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { rateLimited, unauthenticated } from '../../lib/errors.js';
import { hmacSha256, safeEqual } from '../../lib/hash.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { otpEmail } from '../../lib/mail/templates.js';
import { recordSecurityEvent } from '../auth/repo.js';
import { assertNotThrottled, OTP_RESEND, recordHit, secondsBlocked, throttleKey } from '../auth/throttle.js';
import { findUserByEmail, updateUser } from '../users/repo.js';
import { closeOpenCodes, consumeCode, countFailedAttempt, insertCode, lockLiveCode } from './repo.js';

export const OTP_VALID_MINUTES = 10;
export const OTP_MAX_ATTEMPTS = 5;

type VerifyOutcome = 'verified' | 'invalid' | 'exhausted';

/** Email verification codes: 6 digits from a CSPRNG, stored as a keyed hash, 10 minutes, 5 attempts. */
export function createOtpService(deps: { db: Database; clock: Clock; config: Config }) {
  const { db, clock, config } = deps;
  // Keyed and bound to the user: a leaked table cannot be brute-forced offline over a million codes.
  const codeHash = (userId: string, code: string) =>
    hmacSha256(config.jwt.accessSecret, `otp:${userId}:${code}`);

  /**
   * Mails a fresh code to an unverified account. Every address gets the same answer and the same resend limit,
   * so the route tells nobody which addresses have accounts.
   */
  async function send(email: string, client: ClientInfo): Promise<void> {
    const now = clock.now();
    const throttle = throttleKey('otp-send', email);
    await assertNotThrottled(db, throttle, OTP_RESEND, now);
    await recordHit(db, throttle, OTP_RESEND, now);
    const user = await findUserByEmail(db, email);
    if (!user || user.isVerified || user.isDeleted) return;

    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await db.transaction(async (tx) => {
      await closeOpenCodes(tx, user.id, now);
      await insertCode(tx, {
        userId: user.id,
        codeHash: codeHash(user.id, code),
        expiresAt: new Date(now.getTime() + OTP_VALID_MINUTES * 60_000),
        createdAt: now,
      });
      await enqueueEmail(tx, {
        ...otpEmail({ name: user.name, code, validMinutes: OTP_VALID_MINUTES }),
        to: user.email,
      });
      await recordSecurityEvent(tx, {
        type: 'email_verification_sent',
        userId: user.id,
        email: user.email,
        client,
        at: now,
      });
    });
  }

  async function verify(email: string, otp: string, client: ClientInfo): Promise<void> {
    const now = clock.now();
    const user = await findUserByEmail(db, email);
    const outcome = user
      ? await db.transaction(async (tx): Promise<VerifyOutcome> => {
          const code = await lockLiveCode(tx, user.id, now);
          if (!code) return 'invalid';
          if (code.attempts >= OTP_MAX_ATTEMPTS) return 'exhausted';
          if (!safeEqual(codeHash(user.id, otp), code.codeHash)) {
            await countFailedAttempt(tx, code.id, code.attempts + 1);
            return 'invalid';
          }
          await consumeCode(tx, code.id, now);
          await updateUser(tx, user.id, { isVerified: true, updatedAt: now });
          await recordSecurityEvent(tx, {
            type: 'email_verified',
            userId: user.id,
            email: user.email,
            client,
            at: now,
          });
          return 'verified';
        })
      : 'invalid';
    if (outcome === 'exhausted') {
      const wait = await secondsBlocked(db, throttleKey('otp-send', email), now);
      throw rateLimited(wait || 1, 'Too many wrong codes; request a new OTP');
    }
    if (outcome === 'invalid') throw unauthenticated('Invalid OTP');
  }

  return { send, verify };
}

export type OtpService = ReturnType<typeof createOtpService>;
