import { SignJWT } from 'jose';
import type { Config } from '../../src/config.js';
import type { TestUser } from './factories.js';

/**
 * Access tokens that must never pass the guard, each labelled for test names: expired, signed with the wrong
 * secret, the refresh token presented as an access token, for another audience or issuer, with another
 * algorithm, without a required claim, not valid yet, unsigned (`alg: none`), tampered, and junk. Signed with
 * jose, an implementation independent of the app's.
 */
export async function forgedAccessTokens(config: Config, user: TestUser): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    userId: user.id,
    email: user.email,
    role: 'SUPER_ADMIN',
    sid: user.sessionId,
    type: 'access',
  };
  interface Variant {
    aud?: string;
    iss?: string;
    alg?: 'HS256' | 'HS512';
    /** `null` leaves the claim out. */
    jti?: string | null;
    extra?: Record<string, unknown>;
  }
  const sign = (secret: string, iat: number, exp: number, variant: Variant = {}) => {
    const jwt = new SignJWT({ ...claims, ...variant.extra })
      .setProtectedHeader({ alg: variant.alg ?? 'HS256', typ: 'JWT' })
      .setIssuer(variant.iss ?? config.jwt.issuer)
      .setAudience(variant.aud ?? config.jwt.audience)
      .setSubject(user.id)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (variant.jti !== null) jwt.setJti(variant.jti ?? `forged-${iat}-${exp}`);
    return jwt.sign(new TextEncoder().encode(secret));
  };

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
  const elevated = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), role: 'SUPER_ADMIN' };

  return {
    expired: await sign(config.jwt.accessSecret, now - 3600, now - 60),
    'wrong secret': await sign('not-the-server-secret-0123456789', now, now + 600),
    'refresh token as access': user.refreshToken,
    'signed with the refresh secret': await sign(config.jwt.refreshSecret, now, now + 600),
    'wrong audience': await sign(config.jwt.accessSecret, now, now + 600, { aud: 'someone-else' }),
    'wrong issuer': await sign(config.jwt.accessSecret, now, now + 600, { iss: 'someone-else' }),
    'HS512 with the right secret': await sign(config.jwt.accessSecret, now, now + 600, { alg: 'HS512' }),
    'without a jti': await sign(config.jwt.accessSecret, now, now + 600, { jti: null }),
    'not valid yet (nbf)': await sign(config.jwt.accessSecret, now, now + 600, { extra: { nbf: now + 300 } }),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`,
    'payload edited to SUPER_ADMIN': `${header}.${b64(elevated)}.${signature}`,
    garbage: 'not.a.jwt',
    empty: '',
  };
}
