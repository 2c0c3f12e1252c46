import { SignJWT } from 'jose';
import type { Config } from '../../src/config.js';
import type { TestUser } from './factories.js';

/**
 * Access tokens that must never pass the guard, each labelled for test names: expired, signed with the wrong
 * secret, the refresh token presented as an access token, unsigned (`alg: none`), tampered, and junk.
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
  const sign = (secret: string, iat: number, exp: number, extra: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims, ...extra })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(config.jwt.issuer)
      .setAudience(typeof extra.aud === 'string' ? extra.aud : config.jwt.audience)
      .setSubject(user.id)
      .setJti(`forged-${iat}-${exp}`)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
  const elevated = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), role: 'SUPER_ADMIN' };

  return {
    expired: await sign(config.jwt.accessSecret, now - 3600, now - 60),
    'wrong secret': await sign('not-the-server-secret-0123456789', now, now + 600),
    'refresh token as access': user.refreshToken,
    'signed with the refresh secret': await sign(config.jwt.refreshSecret, now, now + 600),
    'wrong audience': await sign(config.jwt.accessSecret, now, now + 600, { aud: 'someone-else' }),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`,
    'payload edited to SUPER_ADMIN': `${header}.${b64(elevated)}.${signature}`,
    garbage: 'not.a.jwt',
    empty: '',
  };
}
