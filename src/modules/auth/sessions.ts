import type { Config } from '../../config.js';
import type { Executor } from '../../db/client.js';
import { type Role, sessions } from '../../db/schema/index.js';
import { sha256 } from '../../lib/hash.js';
import { newId } from '../../lib/ids.js';
import type { TokenService } from './tokens.js';

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
}

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  refreshExpiresAt: Date;
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
  const { tokens, config } = deps;
  const sessionId = newId();
  const refreshExpiresAt = new Date(now.getTime() + config.jwt.refreshExpiresSeconds * 1000);
  const claims = { userId: user.id, email: user.email, role: user.role, sid: sessionId };
  // Second precision, because that is what the token's iat carries.
  const issuedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const [accessToken, refreshToken] = await Promise.all([
    tokens.signAccessToken(claims, now),
    tokens.signRefreshToken(claims, 0, issuedAt, refreshExpiresAt),
  ]);
  await db.insert(sessions).values({
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
  });
  return { accessToken, refreshToken, sessionId, refreshExpiresAt };
}
