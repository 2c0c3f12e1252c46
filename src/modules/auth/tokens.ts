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

  const expired = () =>
    // Legacy clients refresh only on a 500 whose message is exactly "jwt expired".
    new AppError(config.legacyClientCompat ? 500 : 401, 'TOKEN_EXPIRED', 'jwt expired');

  // Access tokens whose signature and claims were verified, by their text. A client presents the same token on
  // every request of its lifetime, and checking the signature (WebCrypto, a hop through the libuv pool) was the
  // largest single cost of authenticating a request. Expiry is still checked on every use, and the guard still
  // reads the session and the user from the database. Oldest entries go first once the cap is reached.
  const verifiedAccessTokens = new Map<string, AccessPayload>();
  const VERIFIED_CACHE_SIZE = 5_000;

  /** Throws 401 TOKEN_EXPIRED "jwt expired" (500 in legacy-compat mode) or 401 UNAUTHENTICATED. */
  async function verifyAccessToken(token: string, now = new Date()): Promise<AccessPayload> {
    const known = verifiedAccessTokens.get(token);
    if (known) {
      // The same rule as jose's: expired once `exp` is not after the current second.
      if (known.exp > Math.floor(now.getTime() / 1000)) return known;
      verifiedAccessTokens.delete(token);
      throw expired();
    }
    let payload: AccessPayload;
    try {
      const verified = await jwtVerify(token, await accessKey, {
        algorithms: [ALG],
        issuer,
        audience,
        currentDate: now,
        requiredClaims: ['exp', 'jti', 'sub'],
      });
      payload = verified.payload as unknown as AccessPayload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw expired();
      throw unauthenticated('Invalid access token');
    }
    if (payload.type !== 'access' || typeof payload.sid !== 'string' || typeof payload.userId !== 'string') {
      throw unauthenticated('Invalid access token');
    }
    if (verifiedAccessTokens.size >= VERIFIED_CACHE_SIZE) {
      verifiedAccessTokens.delete(verifiedAccessTokens.keys().next().value!);
    }
    verifiedAccessTokens.set(token, Object.freeze(payload));
    return payload;
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
