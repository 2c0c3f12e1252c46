import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Role } from '../db/schema/index.js';
import type { Clock } from '../lib/clock.js';
import { forbidden, unauthenticated } from '../lib/errors.js';
import { readAccessToken } from '../modules/auth/http.js';
import { createSessionCheck } from '../modules/auth/session-check.js';
import type { TokenService } from '../modules/auth/tokens.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The page a browser says a request comes from: the Origin header, or else the origin of the Referer.
 * Undefined when neither is sent (API clients, curl); an unreadable Referer counts as a foreign page.
 */
function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) return origin;
  const referer = request.headers.referer;
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'invalid';
  }
}

/**
 * The auth guard as Fastify hooks: reads the access token from the request, refuses cookie-borne writes from
 * foreign pages, and leaves the session check to the auth module.
 */
export function createAuthGuard(deps: { db: Database; tokens: TokenService; config: Config; clock: Clock }) {
  const { config } = deps;
  const sessionCheck = createSessionCheck(deps);
  // Compared as origins: PUBLIC_URL may carry a path, and a browser's Origin never does.
  const allowedOrigins = new Set([...config.frontendUrls, config.publicUrl].map((u) => new URL(u).origin));
  const fromForeignPage = (request: FastifyRequest) => {
    const origin = requestOrigin(request);
    return origin !== undefined && !allowedOrigins.has(origin);
  };

  /** The request's access token; 401 without one, 403 for a cookie-authenticated write from a foreign page. */
  function accessToken(request: FastifyRequest): string {
    const { token, fromCookie } = readAccessToken(request);
    if (!token) throw unauthenticated('No Token Received');
    if (fromCookie && STATE_CHANGING.has(request.method)) {
      // Cookies ride on forged form posts (same-site pages too, whatever SameSite says): a write they
      // authenticate must come from the API or a configured front end. Cross-site cookies must also say
      // where they come from, as browsers always do on writes.
      if (fromForeignPage(request)) throw forbidden('Request origin is not allowed');
      if (config.cookie.sameSite === 'none' && !request.headers.origin) {
        throw forbidden('Request origin is not allowed');
      }
    }
    return token;
  }

  /**
   * Route hook: any signed-in user, or only the given roles (403 otherwise); sets `request.auth`. Works as
   * `preHandler` or, to answer 401/403 before a request body is validated, as `preValidation`.
   */
  function requireAuth(...roles: Role[]): preHandlerAsyncHookHandler {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const auth = await sessionCheck.caller(accessToken(request));
      request.auth = auth;
      if (roles.length > 0 && !roles.includes(auth.role)) {
        throw forbidden('You are not permitted to view this route');
      }
    };
  }

  /** Route hook: any signed-in user; also keeps their public profile on the request (`callerProfile`). */
  function requireAuthWithProfile(): preHandlerAsyncHookHandler {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const { auth, profile } = await sessionCheck.callerWithProfile(accessToken(request));
      request.auth = auth;
      request.callerProfile = profile;
    };
  }

  /**
   * Route hook for the routes that set or use the session cookies without the guard (sign-in, refresh,
   * logout): a page on another site could otherwise post a form there and sign the browser in or out.
   * Requests that name no page at all (API clients) pass.
   */
  function requireOwnOrigin(): preHandlerAsyncHookHandler {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      if (fromForeignPage(request)) throw forbidden('Request origin is not allowed');
    };
  }

  return { requireAuth, requireAuthWithProfile, requireOwnOrigin };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;
