import type { Config } from '../../config.js';
import type { Database, Executor } from '../../db/client.js';
import type { Role } from '../../db/schema/index.js';
import type { ClientInfo } from '../../lib/caller.js';
import type { EventLog } from '../../lib/domain-events.js';
import { forbidden, unauthenticated } from '../../lib/errors.js';
import { safeEqual, sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import {
  endSession,
  insertSession,
  lockSessionWithUser,
  type NewSessionRow,
  recordSecurityEvent,
  rotateSession,
} from './repo.js';
import type { TokenClaims, TokenService } from './tokens.js';

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  refreshExpiresAt: Date;
}

/** A new session's first access and refresh tokens and the row that records it (not yet written). */
export function newSession(
  deps: { tokens: TokenService; config: Config },
  user: SessionUser,
  client: ClientInfo,
  now: Date,
  provider = 'credentials',
): { issued: IssuedTokens; row: NewSessionRow } {
  const { tokens, config } = deps;
  const sessionId = newId();
  const refreshExpiresAt = new Date(now.getTime() + config.jwt.refreshExpiresSeconds * 1000);
  const claims = { userId: user.id, email: user.email, role: user.role, sid: sessionId };
  // Second precision, because that is what the token's iat carries.
  const issuedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const accessToken = tokens.signAccessToken(claims, now);
  const refreshToken = tokens.signRefreshToken(claims, 0, issuedAt, refreshExpiresAt);
  return {
    issued: { accessToken, refreshToken, sessionId, refreshExpiresAt },
    row: {
      id: sessionId,
      userId: user.id,
      generation: 0,
      currentTokenHash: sha256(tokens.refreshTokenId(sessionId, 0)),
      currentIssuedAt: issuedAt,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: refreshExpiresAt,
      absoluteExpiresAt: refreshExpiresAt,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512),
      provider,
    },
  };
}

/** Opens a session for a signed-in user and issues its first access and refresh tokens. */
export async function startSession(
  db: Executor,
  deps: { tokens: TokenService; config: Config },
  user: SessionUser,
  client: ClientInfo,
  now: Date,
  provider = 'credentials',
): Promise<IssuedTokens> {
  const { issued, row } = newSession(deps, user, client, now, provider);
  await insertSession(db, row);
  return issued;
}

/** Seconds of `now`, the precision a token's `iat` carries (so a successor can be signed again identically). */
const toSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000);

type RotationOutcome =
  | { kind: 'issue'; claims: TokenClaims; generation: number; issuedAt: Date; expiresAt: Date }
  | { kind: 'ended' }
  | { kind: 'forbidden'; message: string }
  | { kind: 'reused'; userId: string };

/**
 * Exchanges a refresh token for a new pair, in one transaction that locks the session row:
 * the current token rotates (generation + 1, the old hash kept as the predecessor); the predecessor repeated
 * inside the grace window (parallel tabs) gets the successor already issued, byte for byte; any other reuse
 * revokes the session and is logged. The user's state and role are read from the database.
 */
export async function rotateRefreshToken(
  db: Database,
  deps: { tokens: TokenService; config: Config; events: EventLog },
  refreshToken: string,
  client: ClientInfo,
  now: Date,
): Promise<IssuedTokens & { userId: string }> {
  const { tokens, config } = deps;
  const payload = await tokens.verifyRefreshToken(refreshToken, now);
  const presentedHash = sha256(payload.jti);

  const outcome = await db.transaction(async (tx): Promise<RotationOutcome> => {
    const row = await lockSessionWithUser(tx, payload.sid);
    if (!row || row.userId !== payload.userId || row.revokedAt) return { kind: 'ended' };
    if (row.absoluteExpiresAt <= now || row.idleExpiresAt <= now) return { kind: 'ended' };
    const blocked = accountBlockReason(row);
    if (blocked) return { kind: 'forbidden', message: blocked };

    const claims: TokenClaims = { userId: row.userId, email: row.email, role: row.role, sid: payload.sid };
    if (safeEqual(presentedHash, row.currentTokenHash)) {
      const generation = row.generation + 1;
      const issuedAt = toSecond(now);
      await rotateSession(tx, payload.sid, {
        generation,
        previousTokenHash: row.currentTokenHash,
        currentTokenHash: sha256(tokens.refreshTokenId(payload.sid, generation)),
        currentIssuedAt: issuedAt,
        at: now,
        ip: client.ip,
      });
      return { kind: 'issue', claims, generation, issuedAt, expiresAt: row.absoluteExpiresAt };
    }
    const withinGrace =
      row.rotatedAt !== null && now.getTime() - row.rotatedAt.getTime() <= config.refreshGraceSeconds * 1000;
    if (row.previousTokenHash && safeEqual(presentedHash, row.previousTokenHash) && withinGrace) {
      return {
        kind: 'issue',
        claims,
        generation: row.generation,
        issuedAt: row.currentIssuedAt,
        expiresAt: row.absoluteExpiresAt,
      };
    }
    await endSession(tx, payload.sid, 'refresh_token_reuse', now);
    await recordSecurityEvent(tx, {
      type: 'refresh_token_reuse',
      userId: row.userId,
      email: row.email,
      client,
      details: {
        sessionId: payload.sid,
        presentedGeneration: payload.gen,
        currentGeneration: row.generation,
      },
      at: now,
    });
    return { kind: 'reused', userId: row.userId };
  });

  if (outcome.kind === 'ended') throw unauthenticated('Session has ended, please sign in again');
  if (outcome.kind === 'forbidden') throw forbidden(outcome.message);
  if (outcome.kind === 'reused') {
    deps.events(
      'refresh_token.reused',
      { userId: outcome.userId, sessionId: payload.sid, presentedGeneration: payload.gen },
      'a spent refresh token was presented again; its session is ended',
    );
    throw unauthenticated('Refresh token was already used; the session has been ended, please sign in again');
  }
  const accessToken = tokens.signAccessToken(outcome.claims, now);
  const nextRefreshToken = tokens.signRefreshToken(
    outcome.claims,
    outcome.generation,
    outcome.issuedAt,
    outcome.expiresAt,
  );
  return {
    accessToken,
    refreshToken: nextRefreshToken,
    sessionId: payload.sid,
    refreshExpiresAt: outcome.expiresAt,
    userId: outcome.claims.userId,
  };
}

/** Why an account may not hold a session (403 message), or undefined when it may. */
export function accountBlockReason(user: { isDeleted: boolean; isActive: string; isVerified: boolean }) {
  if (user.isDeleted) return 'User is deleted';
  if (user.isActive !== 'ACTIVE') return `User is ${user.isActive}`;
  if (!user.isVerified) return 'User is not verified';
  return undefined;
}
