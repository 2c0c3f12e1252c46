import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { AuthContext, ClientInfo } from '../../lib/caller.js';
import { unauthenticated } from '../../lib/errors.js';
import type { ProfileWithIsoInstants } from '../users/repo.js';

/*
 * The HTTP side of auth: what route files and the guard hook read from a request or set on a reply. Services
 * never see a request; they get the plain values these helpers return.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard's hooks. */
    auth?: AuthContext;
    /** Set only by the guard's `requireAuthWithProfile`. */
    callerProfile?: ProfileWithIsoInstants;
  }
}

export const ACCESS_COOKIE = 'accessToken';
export const REFRESH_COOKIE = 'refreshToken';

/** The authenticated caller of a guarded route. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}

/** The caller's public profile on a route guarded by `requireAuthWithProfile`. */
export function callerProfile(request: FastifyRequest): ProfileWithIsoInstants {
  if (!request.callerProfile) throw unauthenticated();
  return request.callerProfile;
}

/** Where a request comes from, for session rows and the security log. */
export function clientInfo(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

/** The access token from the `Authorization` header (raw or `Bearer `) or else the `accessToken` cookie. */
export function readAccessToken(request: FastifyRequest): { token?: string; fromCookie: boolean } {
  const header = request.headers.authorization?.trim();
  if (header) return { token: header.replace(/^Bearer\s+/i, '').trim() || undefined, fromCookie: false };
  const cookie = request.cookies?.[ACCESS_COOKIE];
  return { token: cookie || undefined, fromCookie: Boolean(cookie) };
}

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
