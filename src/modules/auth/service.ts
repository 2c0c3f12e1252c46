import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { AuthContext, ClientInfo } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { type AppError, forbidden, notFound, unauthenticated } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../../lib/passwords.js';
import { toPublicUser, updateUser } from '../users/repo.js';
import type { PublicUser } from '../users/schemas.js';
import { describeDevice } from './device.js';
import {
  clearThrottle,
  listLiveSessions,
  prepareSignInAccount,
  prepareSignInSession,
  recordSecurityEvent,
  revokeSession,
  revokeUserSessions,
} from './repo.js';
import type { LoginInput, SessionView } from './schemas.js';
import { type IssuedTokens, newSession, rotateRefreshToken } from './sessions.js';
import { delayAfterHits, LOGIN_FAILURES, throttledError, throttleKey } from './throttle.js';
import type { TokenService } from './tokens.js';

const GOOGLE_ONLY_MESSAGE =
  'You have authenticated through Google. Please sign in with Google, or set a password first to sign in with email and password.';

/** Why an account whose password is right may still not sign in (undefined: it may). */
function accountRefusal(user: {
  isDeleted: boolean;
  isActive: string;
  isVerified: boolean;
}): AppError | undefined {
  if (user.isDeleted) return forbidden('User is deleted');
  if (user.isActive !== 'ACTIVE') return forbidden(`User is ${user.isActive}`);
  if (!user.isVerified) return unauthenticated('User is not verified');
  return undefined;
}

/** Sign-in, refresh, sign-out and the session list. */
export function createAuthService(deps: {
  db: Database;
  clock: Clock;
  config: Config;
  tokens: TokenService;
  events: EventLog;
}) {
  const { db, clock, config, tokens, events } = deps;

  const readSignInAccount = prepareSignInAccount(db, LOGIN_FAILURES);
  const writeSignInSession = prepareSignInSession(db);

  async function login(
    input: LoginInput,
    client: ClientInfo,
  ): Promise<{ issued: IssuedTokens; user: PublicUser }> {
    const now = clock.now();
    const throttle = throttleKey('login', input.email);
    const { user, reserved, hits } = await readSignInAccount(throttle, input.email, now);
    if (!reserved) throw await throttledError(db, throttle, LOGIN_FAILURES, now);

    // Unknown emails and password-less accounts are checked against a dummy hash: same work, same timing.
    const passwordMatches = await verifyPassword(
      user?.passwordHash ?? (await dummyPasswordHash()),
      input.password,
    );
    if (user && !user.passwordHash) throw unauthenticated(GOOGLE_ONLY_MESSAGE);
    if (!user || !passwordMatches) {
      // The try reserved above stays counted as this failure; the one that locks the account is logged once.
      const lockedSeconds = hits === null ? 0 : delayAfterHits(LOGIN_FAILURES, hits);
      if (lockedSeconds > 0) {
        events(
          'account.locked',
          { userId: user?.id ?? null, knownAccount: Boolean(user), failures: hits, lockedSeconds },
          `sign-in locked for ${lockedSeconds} s after ${hits} failed attempts`,
        );
      }
      await recordSecurityEvent(db, {
        type: 'sign_in_failed',
        userId: user?.id,
        email: input.email,
        client,
        details: { reason: user ? 'wrong_password' : 'unknown_email' },
        at: now,
      });
      throw unauthenticated('Password does not match');
    }
    // The right password clears the throttle, also when the account may not sign in.
    const refusal = accountRefusal(user);
    if (refusal) {
      await clearThrottle(db, throttle);
      throw refusal;
    }

    // The password is proven, so each step below stands on its own and needs no transaction around the
    // others; the session, its security event and the throttle clearing are written in one statement.
    if (needsRehash(user.passwordHash!)) {
      await updateUser(db, user.id, { passwordHash: await hashPassword(input.password) });
    }
    const { issued, row } = newSession({ tokens, config }, user, client, now);
    await writeSignInSession(row, user.email, throttle);
    return { issued, user: toPublicUser(user) };
  }

  async function refresh(refreshToken: string | undefined, client: ClientInfo): Promise<IssuedTokens> {
    if (!refreshToken) throw unauthenticated('No refresh token received');
    return rotateRefreshToken(db, { tokens, config, events }, refreshToken, client, clock.now());
  }

  /** Ends the session the presented tokens belong to, if any; signing out never fails. */
  async function logout(
    presented: { accessToken?: string; refreshToken?: string },
    client: ClientInfo,
  ): Promise<void> {
    const now = clock.now();
    const session =
      (presented.accessToken &&
        (await tokens.verifyAccessToken(presented.accessToken, now).catch(() => undefined))) ||
      (presented.refreshToken &&
        (await tokens.verifyRefreshToken(presented.refreshToken, now).catch(() => undefined))) ||
      undefined;
    if (!session) return;
    await db.transaction(async (tx) => {
      if (await revokeSession(tx, session.userId, session.sid, 'logout', now)) {
        await recordSecurityEvent(tx, {
          type: 'logout',
          userId: session.userId,
          email: session.email,
          client,
          details: { sessionId: session.sid },
          at: now,
        });
      }
    });
  }

  async function logoutAll(caller: AuthContext, client: ClientInfo): Promise<number> {
    const now = clock.now();
    const count = await db.transaction(async (tx) => {
      const count = await revokeUserSessions(tx, caller.userId, 'logout_all', now);
      await recordSecurityEvent(tx, {
        type: 'logout_all',
        userId: caller.userId,
        email: caller.email,
        client,
        details: { sessions: count },
        at: now,
      });
      return count;
    });
    events(
      'session.revoked',
      { userId: caller.userId, sessions: count, reason: 'logout_all' },
      `${count} session(s) ended by signing out everywhere`,
    );
    return count;
  }

  async function sessions(caller: AuthContext): Promise<SessionView[]> {
    const rows = await listLiveSessions(db, caller.userId, clock.now());
    return rows.map((s) => ({
      _id: s.id,
      device: describeDevice(s.userAgent),
      userAgent: s.userAgent,
      ip: s.ip,
      provider: s.provider,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
      current: s.id === caller.sessionId,
    }));
  }

  async function revokeOwnSession(caller: AuthContext, sessionId: string, client: ClientInfo): Promise<void> {
    const now = clock.now();
    await db.transaction(async (tx) => {
      // Another user's session and a malformed id look the same as a missing one.
      if (!isId(sessionId) || !(await revokeSession(tx, caller.userId, sessionId, 'revoked_by_user', now))) {
        throw notFound('Session not found');
      }
      await recordSecurityEvent(tx, {
        type: 'session_revoked',
        userId: caller.userId,
        email: caller.email,
        client,
        details: { sessionId },
        at: now,
      });
    });
    events(
      'session.revoked',
      { userId: caller.userId, sessionId, reason: 'revoked_by_user' },
      'session ended by its user',
    );
  }

  return { login, refresh, logout, logoutAll, sessions, revokeOwnSession };
}

export type AuthService = ReturnType<typeof createAuthService>;
