import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.js';
import type { Role } from '../../db/schema/index.js';
import { AppError, unauthenticated } from '../../lib/errors.js';
import { hmacSha256, randomToken } from '../../lib/hash.js';

/** Claims shared by both tokens; `userId`, `email`, `role` keep the legacy payload. */
export interface TokenClaims {
  userId: string;
  email: string;
  role: Role;
  sid: string;
}

export interface AccessPayload extends TokenClaims {
  type: 'access';
  jti: string;
  exp: number;
}

export interface RefreshPayload extends TokenClaims {
  type: 'refresh';
  jti: string;
  gen: number;
  iat: number;
  exp: number;
}

const ALG = 'HS256';

function importHmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

export function createTokenService(config: Config) {
  // Imported once: given raw bytes, jose imports a new WebCrypto key on every sign and verify, which was more
  // than half the cost of checking a token.
  const accessKey = importHmacKey(config.jwt.accessSecret);
  const refreshKey = importHmacKey(config.jwt.refreshSecret);
  const { issuer, audience } = config.jwt;

  /**
   * The refresh token id of a session's generation. Derived (not random) so the successor of a token can be
   * signed again, byte for byte, when a parallel tab repeats the predecessor inside the grace window.
   */
  const refreshTokenId = (sessionId: string, generation: number) =>
    hmacSha256(config.jwt.refreshSecret, `refresh:${sessionId}:${generation}`);

  async function signAccessToken(claims: TokenClaims, now = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ ...claims, type: 'access' })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(claims.userId)
      .setJti(randomToken(16))
      .setIssuedAt(iat)
      .setExpirationTime(iat + config.jwt.accessExpiresSeconds)
      .sign(await accessKey);
  }

  /** Deterministic for the same (claims, generation, issuedAt, expiresAt). */
  async function signRefreshToken(
    claims: TokenClaims,
    generation: number,
    issuedAt: Date,
    expiresAt: Date,
  ): Promise<string> {
    return new SignJWT({ ...claims, type: 'refresh', gen: generation })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(claims.userId)
      .setJti(refreshTokenId(claims.sid, generation))
      .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await refreshKey);
  }

  /** Throws 401 TOKEN_EXPIRED "jwt expired" (500 in legacy-compat mode) or 401 UNAUTHENTICATED. */
  async function verifyAccessToken(token: string, now = new Date()): Promise<AccessPayload> {
    try {
      const { payload } = await jwtVerify(token, await accessKey, {
        algorithms: [ALG],
        issuer,
        audience,
        currentDate: now,
        requiredClaims: ['exp', 'jti', 'sub'],
      });
      if (
        payload.type !== 'access' ||
        typeof payload.sid !== 'string' ||
        typeof payload.userId !== 'string'
      ) {
        throw unauthenticated('Invalid access token');
      }
      return payload as unknown as AccessPayload;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof errors.JWTExpired) {
        // Legacy clients refresh only on a 500 whose message is exactly "jwt expired".
        throw new AppError(config.legacyClientCompat ? 500 : 401, 'TOKEN_EXPIRED', 'jwt expired');
      }
      throw unauthenticated('Invalid access token');
    }
  }

  /** Any failure is a 401 with a message other than "jwt expired", so legacy clients stop retrying. */
  async function verifyRefreshToken(token: string, now = new Date()): Promise<RefreshPayload> {
    try {
      const { payload } = await jwtVerify(token, await refreshKey, {
        algorithms: [ALG],
        issuer,
        audience,
        currentDate: now,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      });
      if (payload.type !== 'refresh' || typeof payload.sid !== 'string' || typeof payload.gen !== 'number') {
        throw new Error('wrong token type');
      }
      return payload as unknown as RefreshPayload;
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        throw unauthenticated('Refresh token has expired, please sign in again');
      throw unauthenticated('Invalid refresh token, please sign in again');
    }
  }

  return { signAccessToken, signRefreshToken, verifyAccessToken, verifyRefreshToken, refreshTokenId };
}

export type TokenService = ReturnType<typeof createTokenService>;
