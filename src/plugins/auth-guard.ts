import { eq, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { type IsActive, type Role, sessions, userAuths, users } from '../db/schema/index.js';
import type { Clock } from '../lib/clock.js';
import { forbidden, unauthenticated } from '../lib/errors.js';
import { accountBlockReason } from '../modules/auth/sessions.js';
import type { TokenService } from '../modules/auth/tokens.js';

export interface AuthContext {
  userId: string;
  email: string;
  /** From the database, never from the token. */
  role: Role;
  sessionId: string;
}

/** The caller's account as the public profile shows it, read by the same query that checks the session. */
export interface CallerProfile {
  id: string;
  name: string;
  email: string;
  role: Role;
  phone: string | null;
  picture: string | null;
  address: string | null;
  isDeleted: boolean;
  isActive: IsActive;
  isVerified: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Sign-in methods, oldest first. */
  auths: { provider: string; providerId: string }[];
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
    /** Set only by `requireAuthWithProfile`. */
    callerProfile?: CallerProfile;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The access token from the `Authorization` header (raw or `Bearer `) or else the `accessToken` cookie. */
export function readAccessToken(request: FastifyRequest): { token?: string; fromCookie: boolean } {
  const header = request.headers.authorization?.trim();
  if (header) return { token: header.replace(/^Bearer\s+/i, '').trim() || undefined, fromCookie: false };
  const cookie = request.cookies?.accessToken;
  return { token: cookie || undefined, fromCookie: Boolean(cookie) };
}

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

export function createAuthGuard(deps: { db: Database; tokens: TokenService; config: Config; clock: Clock }) {
  const { db, tokens, config, clock } = deps;
  // Compared as origins: PUBLIC_URL may carry a path, and a browser's Origin never does.
  const allowedOrigins = new Set([...config.frontendUrls, config.publicUrl].map((u) => new URL(u).origin));
  const fromForeignPage = (request: FastifyRequest) => {
    const origin = requestOrigin(request);
    return origin !== undefined && !allowedOrigins.has(origin);
  };
  const sessionCheck = {
    userId: users.id,
    email: users.email,
    role: users.role,
    isActive: users.isActive,
    isDeleted: users.isDeleted,
    isVerified: users.isVerified,
    sessionUserId: sessions.userId,
    revokedAt: sessions.revokedAt,
    absoluteExpiresAt: sessions.absoluteExpiresAt,
  };
  // Runs on every authenticated request: a named prepared statement, built and planned once per connection.
  const sessionQuery = db
    .select(sessionCheck)
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('sid')))
    .limit(1)
    .prepare('auth_guard_session');
  // The same check plus the public profile, for routes that answer with the caller's own account: one
  // round trip instead of two. Kept apart because the other routes need none of it.
  const profileQuery = db
    .select({
      ...sessionCheck,
      name: users.name,
      phone: users.phone,
      picture: users.picture,
      address: users.address,
      createdAt: users.createdAt,
      updatedAt: users.updatedAt,
      auths: sql<CallerProfile['auths']>`coalesce((
        select json_agg(json_build_object('provider', ${userAuths.provider}, 'providerId', ${userAuths.providerId})
                        order by ${userAuths.createdAt})
        from ${userAuths} where ${userAuths.userId} = ${users.id}), '[]'::json)`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('sid')))
    .limit(1)
    .prepare('auth_guard_profile');

  type SessionRow = Awaited<ReturnType<typeof sessionQuery.execute>>[number];

  /** Verifies the token, then re-checks user state and session with `query`; sets `request.auth`. */
  async function check<Row extends SessionRow>(
    request: FastifyRequest,
    query: { execute(params: { sid: string }): Promise<Row[]> },
  ): Promise<Row> {
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
    const now = clock.now();
    const payload = await tokens.verifyAccessToken(token, now);
    const [row] = await query.execute({ sid: payload.sid });
    if (!row || row.sessionUserId !== payload.userId) throw unauthenticated('User Does Not Exist');
    if (row.revokedAt || row.absoluteExpiresAt <= now)
      throw unauthenticated('Session has ended, please sign in again');
    const blocked = accountBlockReason(row);
    if (blocked) throw forbidden(blocked);
    request.auth = { userId: row.userId, email: row.email, role: row.role, sessionId: payload.sid };
    return row;
  }

  /** Verifies the token, then re-checks user state and session in one query; sets `request.auth`. */
  async function authenticate(request: FastifyRequest): Promise<AuthContext> {
    await check(request, sessionQuery);
    return request.auth!;
  }

  /**
   * Route hook: any signed-in user, or only the given roles (403 otherwise). Works as `preHandler` or, to answer
   * 401/403 before a request body is validated, as `preValidation`.
   */
  function requireAuth(...roles: Role[]): preHandlerAsyncHookHandler {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const auth = await authenticate(request);
      if (roles.length > 0 && !roles.includes(auth.role)) {
        throw forbidden('You are not permitted to view this route');
      }
    };
  }

  /** Route hook: any signed-in user; also keeps their public profile on the request (`callerProfile`). */
  function requireAuthWithProfile(): preHandlerAsyncHookHandler {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const row = await check(request, profileQuery);
      request.callerProfile = {
        id: row.userId,
        name: row.name,
        email: row.email,
        role: row.role,
        phone: row.phone,
        picture: row.picture,
        address: row.address,
        isDeleted: row.isDeleted,
        isActive: row.isActive,
        isVerified: row.isVerified,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        auths: row.auths,
      };
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

  return { authenticate, requireAuth, requireAuthWithProfile, requireOwnOrigin };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;

/** The caller's profile on a route guarded by `requireAuthWithProfile`. */
export function callerProfile(request: FastifyRequest): CallerProfile {
  if (!request.callerProfile) throw unauthenticated();
  return request.callerProfile;
}

/** The authenticated caller of a guarded route. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}
