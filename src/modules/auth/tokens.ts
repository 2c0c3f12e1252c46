import { createSigner, createVerifier } from 'fast-jwt';
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

type Claims = Record<string, unknown>;

/**
 * What the token's time claims say at `now`, by the rules the tokens have always been checked with: `iat`,
 * `nbf` and `exp` must be numbers; a token is expired once `exp` is not after the current second and not yet
 * valid while `nbf` is after it; no clock tolerance. Checked here rather than by the verifier, which can only
 * read the system clock, because `now` comes from the app's clock.
 */
function timeVerdict(payload: Claims, now: Date): 'valid' | 'expired' | 'invalid' {
  const second = Math.floor(now.getTime() / 1000);
  const { iat, nbf, exp } = payload;
  if (iat !== undefined && typeof iat !== 'number') return 'invalid';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > second)) return 'invalid';
  if (typeof exp !== 'number') return 'invalid';
  return exp > second ? 'valid' : 'expired';
}

export function createTokenService(config: Config) {
  const { issuer, audience } = config.jwt;

  // HS256 with node:crypto's HMAC, synchronously on the calling thread: a few microseconds, where a WebCrypto
  // job cost ~0.1-1 ms of event loop and queued in the libuv pool behind the password hashes. The signers get
  // every claim in the payload, in the order the tokens have always had, so the same claims give the same bytes.
  const signAccess = createSigner({ key: config.jwt.accessSecret, algorithm: ALG });
  const signRefresh = createSigner({ key: config.jwt.refreshSecret, algorithm: ALG });
  const verifierOptions = (requiredClaims: string[]) => ({
    algorithms: [ALG] as ['HS256'],
    allowedIss: issuer,
    allowedAud: audience,
    requiredClaims: ['iss', 'aud', ...requiredClaims],
    // Time claims are checked by `timeVerdict`, against the app's clock.
    ignoreExpiration: true,
    ignoreNotBefore: true,
  });
  const verifyAccess = createVerifier({
    key: config.jwt.accessSecret,
    ...verifierOptions(['exp', 'jti', 'sub']),
  });
  const verifyRefresh = createVerifier({
    key: config.jwt.refreshSecret,
    ...verifierOptions(['exp', 'iat', 'jti', 'sub']),
  });

  /**
   * The refresh token id of a session's generation. Derived (not random) so the successor of a token can be
   * signed again, byte for byte, when a parallel tab repeats the predecessor inside the grace window.
   */
  const refreshTokenId = (sessionId: string, generation: number) =>
    hmacSha256(config.jwt.refreshSecret, `refresh:${sessionId}:${generation}`);

  function signAccessToken(claims: TokenClaims, now = new Date()): string {
    const iat = Math.floor(now.getTime() / 1000);
    return signAccess({
      ...claims,
      type: 'access',
      iss: issuer,
      aud: audience,
      sub: claims.userId,
      jti: randomToken(16),
      iat,
      exp: iat + config.jwt.accessExpiresSeconds,
    });
  }

  /** Deterministic for the same (claims, generation, issuedAt, expiresAt). */
  function signRefreshToken(
    claims: TokenClaims,
    generation: number,
    issuedAt: Date,
    expiresAt: Date,
  ): string {
    return signRefresh({
      ...claims,
      type: 'refresh',
      gen: generation,
      iss: issuer,
      aud: audience,
      sub: claims.userId,
      jti: refreshTokenId(claims.sid, generation),
      iat: Math.floor(issuedAt.getTime() / 1000),
      exp: Math.floor(expiresAt.getTime() / 1000),
    });
  }

  const expired = () =>
    // Legacy clients refresh only on a 500 whose message is exactly "jwt expired".
    new AppError(config.legacyClientCompat ? 500 : 401, 'TOKEN_EXPIRED', 'jwt expired');

  // Access tokens whose signature and claims were verified, by their text. A client presents the same token on
  // every request of its lifetime, so the signature and claims are checked once. Expiry is still checked on
  // every use, and the guard still reads the session and the user from the database. Oldest entries go first
  // once the cap is reached.
  const verifiedAccessTokens = new Map<string, AccessPayload>();
  const VERIFIED_CACHE_SIZE = 5_000;

  /** Throws 401 TOKEN_EXPIRED "jwt expired" (500 in legacy-compat mode) or 401 UNAUTHENTICATED. */
  async function verifyAccessToken(token: string, now = new Date()): Promise<AccessPayload> {
    const known = verifiedAccessTokens.get(token);
    if (known) {
      if (known.exp > Math.floor(now.getTime() / 1000)) return known;
      verifiedAccessTokens.delete(token);
      throw expired();
    }
    let payload: Claims;
    try {
      payload = verifyAccess(token) as Claims;
    } catch {
      throw unauthenticated('Invalid access token');
    }
    const time = timeVerdict(payload, now);
    if (time === 'expired') throw expired();
    if (time === 'invalid') throw unauthenticated('Invalid access token');
    if (payload.type !== 'access' || typeof payload.sid !== 'string' || typeof payload.userId !== 'string') {
      throw unauthenticated('Invalid access token');
    }
    if (verifiedAccessTokens.size >= VERIFIED_CACHE_SIZE) {
      verifiedAccessTokens.delete(verifiedAccessTokens.keys().next().value!);
    }
    const verified = Object.freeze(payload) as unknown as AccessPayload;
    verifiedAccessTokens.set(token, verified);
    return verified;
  }

  /** Any failure is a 401 with a message other than "jwt expired", so legacy clients stop retrying. */
  async function verifyRefreshToken(token: string, now = new Date()): Promise<RefreshPayload> {
    let payload: Claims;
    try {
      payload = verifyRefresh(token) as Claims;
    } catch {
      throw unauthenticated('Invalid refresh token, please sign in again');
    }
    const time = timeVerdict(payload, now);
    if (time === 'expired') throw unauthenticated('Refresh token has expired, please sign in again');
    if (
      time === 'invalid' ||
      payload.type !== 'refresh' ||
      typeof payload.sid !== 'string' ||
      typeof payload.gen !== 'number'
    ) {
      throw unauthenticated('Invalid refresh token, please sign in again');
    }
    return payload as unknown as RefreshPayload;
  }

  return { signAccessToken, signRefreshToken, verifyAccessToken, verifyRefreshToken, refreshTokenId };
}

export type TokenService = ReturnType<typeof createTokenService>;
