import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import type { Config } from '../../config.js';

export const ACCESS_COOKIE = 'accessToken';
export const REFRESH_COOKIE = 'refreshToken';

/** The attributes both cookies are set and cleared with (browsers only drop a cookie whose attributes match). */
function baseOptions(config: Config): CookieSerializeOptions {
  return { httpOnly: true, secure: config.cookie.secure, sameSite: config.cookie.sameSite, path: '/' };
}

/**
 * Both cookies live as long as the session's refresh token: the access cookie outlives the token inside it,
 * so a client sending an expired token is told to refresh instead of looking signed out.
 */
export function setAuthCookies(
  reply: FastifyReply,
  config: Config,
  issued: { accessToken: string; refreshToken: string; refreshExpiresAt: Date },
) {
  const options = { ...baseOptions(config), expires: issued.refreshExpiresAt };
  reply.setCookie(ACCESS_COOKIE, issued.accessToken, options);
  reply.setCookie(REFRESH_COOKIE, issued.refreshToken, options);
}

export function clearAuthCookies(reply: FastifyReply, config: Config) {
  reply.clearCookie(ACCESS_COOKIE, baseOptions(config));
  reply.clearCookie(REFRESH_COOKIE, baseOptions(config));
}
