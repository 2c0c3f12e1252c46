import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { AuthContext, ClientInfo } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { unauthenticated, validationError } from '../../lib/errors.js';
import { randomToken, sha256 } from '../../lib/hash.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { passwordResetEmail } from '../../lib/mail/templates.js';
import { assertPasswordPolicy } from '../../lib/password-policy.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import { addUserAuth, findUserByEmail, findUserById, lockUser, updateUser } from '../users/repo.js';
import {
  clearThrottle,
  findLiveResetToken,
  insertResetToken,
  recordSecurityEvent,
  revokeUserSessions,
  spendOpenResetTokens,
  spendResetToken,
} from './repo.js';
import { LOGIN_FAILURES, RESET_REQUESTS, reserveAttempt, throttleKey } from './throttle.js';

export const RESET_TOKEN_MINUTES = 10;

/** Change, set, forgot and reset password. */
export function createPasswordService(deps: {
  db: Database;
  clock: Clock;
  config: Config;
  events: EventLog;
}) {
  const { db, clock, config, events } = deps;

  /** Needs the old password; ends the user's other sessions. */
  async function changePassword(
    caller: AuthContext,
    input: { oldPassword: string; newPassword: string },
    client: ClientInfo,
  ): Promise<void> {
    const now = clock.now();
    const throttle = throttleKey('change-password', caller.userId);
    const user = await findUserById(db, caller.userId);
    if (!user?.passwordHash) {
      throw validationError(
        'oldPassword',
        'Your account has no password yet; use set-password to create one',
      );
    }
    // Counted before the check, as at sign-in; the right password clears it below.
    await reserveAttempt(db, throttle, LOGIN_FAILURES, now);
    if (!(await verifyPassword(user.passwordHash, input.oldPassword))) {
      throw unauthenticated('Old Password does not match');
    }
    const passwordHash = await hashPassword(input.newPassword);
    const ended = await db.transaction(async (tx) => {
      await updateUser(tx, user.id, { passwordHash, updatedAt: now });
      await clearThrottle(tx, throttle);
      const ended = await revokeUserSessions(tx, user.id, 'password_changed', now, caller.sessionId);
      await recordSecurityEvent(tx, {
        type: 'password_changed',
        userId: user.id,
        email: user.email,
        client,
        details: { otherSessionsEnded: ended },
        at: now,
      });
      return ended;
    });
    if (ended > 0) {
      events(
        'session.revoked',
        { userId: user.id, sessions: ended, reason: 'password_changed' },
        `${ended} other session(s) ended by a password change`,
      );
    }
  }

  /** For accounts without a password (e.g. Google sign-up): adds email-and-password sign-in. */
  async function setPassword(caller: AuthContext, password: string, client: ClientInfo): Promise<void> {
    const now = clock.now();
    const passwordHash = await hashPassword(password);
    await db.transaction(async (tx) => {
      const user = await lockUser(tx, caller.userId);
      if (!user) throw unauthenticated('User Does Not Exist');
      if (user.passwordHash) {
        throw validationError('password', 'You already have a password; use change-password to change it');
      }
      await updateUser(tx, user.id, { passwordHash, updatedAt: now });
      await addUserAuth(tx, user.id, { provider: 'credentials', providerId: user.email });
      await recordSecurityEvent(tx, {
        type: 'password_set',
        userId: user.id,
        email: user.email,
        client,
        at: now,
      });
    });
  }

  /**
   * Mails a single-use reset link when the account can use one. Answers the same either way, and counts
   * requests per address so the address cannot be mail-bombed (unknown addresses are counted too).
   */
  async function forgotPassword(email: string, client: ClientInfo): Promise<void> {
    const now = clock.now();
    await reserveAttempt(db, throttleKey('forgot-password', email), RESET_REQUESTS, now);
    const user = await findUserByEmail(db, email);
    if (!user || user.isDeleted || user.isActive !== 'ACTIVE') return;

    const token = randomToken(32);
    const resetLink = `${config.frontendUrl}/reset-password?id=${encodeURIComponent(user.id)}&token=${encodeURIComponent(token)}`;
    await db.transaction(async (tx) => {
      // Only the newest link works.
      await spendOpenResetTokens(tx, user.id, now);
      await insertResetToken(tx, {
        userId: user.id,
        tokenHash: sha256(token),
        expiresAt: new Date(now.getTime() + RESET_TOKEN_MINUTES * 60_000),
        createdAt: now,
      });
      await enqueueEmail(tx, {
        ...passwordResetEmail({ name: user.name, resetLink, validMinutes: RESET_TOKEN_MINUTES }),
        to: user.email,
      });
      await recordSecurityEvent(tx, {
        type: 'password_reset_requested',
        userId: user.id,
        email: user.email,
        client,
        at: now,
      });
    });
  }

  /**
   * Spends a reset token (never an access token) and sets the new password; ends every session and lifts a
   * sign-in lockout, so the real owner is never locked out by someone guessing their password. The token is
   * checked before the new password is looked at or hashed: a wrong token costs no hash.
   */
  async function resetPassword(
    resetToken: string | undefined,
    input: { id: string; newPassword: string },
    client: ClientInfo,
  ): Promise<void> {
    if (!resetToken) throw unauthenticated('Password reset token is missing');
    const now = clock.now();
    const tokenHash = sha256(resetToken);
    const token = await findLiveResetToken(db, tokenHash, now);
    if (!token) throw unauthenticated('Password reset link is invalid or has expired');
    if (token.userId !== input.id) throw unauthenticated('You can not reset your password');
    // A weak password leaves the token unspent, so the owner can try another one.
    assertPasswordPolicy('newPassword', input.newPassword);

    const passwordHash = await hashPassword(input.newPassword);
    const ended = await db.transaction(async (tx) => {
      // Spent only if still live: of two resets racing with one token, one wins.
      const spent = await spendResetToken(tx, tokenHash, now);
      if (!spent) throw unauthenticated('Password reset link is invalid or has expired');
      const user = await updateUser(tx, spent.userId, { passwordHash, updatedAt: now });
      if (!user) throw unauthenticated('Password reset link is invalid or has expired');
      await addUserAuth(tx, user.id, { provider: 'credentials', providerId: user.email });
      const ended = await revokeUserSessions(tx, user.id, 'password_reset', now);
      await clearThrottle(tx, throttleKey('login', user.email));
      await recordSecurityEvent(tx, {
        type: 'password_reset',
        userId: user.id,
        email: user.email,
        client,
        at: now,
      });
      return { userId: user.id, sessions: ended };
    });
    if (ended.sessions > 0) {
      events(
        'session.revoked',
        { ...ended, reason: 'password_reset' },
        `${ended.sessions} session(s) ended by a password reset`,
      );
    }
  }

  return { changePassword, setPassword, forgotPassword, resetPassword };
}

export type PasswordService = ReturnType<typeof createPasswordService>;
