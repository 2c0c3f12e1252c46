import { eq, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { type Role, sessions, users } from '../db/schema/index.js';
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

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
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

export function createAuthGuard(deps: { db: Database; tokens: TokenService; config: Config; clock: Clock }) {
  const { db, tokens, config, clock } = deps;
  const allowedOrigins = new Set([...config.frontendUrls, config.publicUrl]);
  // Runs on every authenticated request: a named prepared statement, built and planned once per connection.
  const sessionQuery = db
    .select({
      userId: users.id,
      email: users.email,
      role: users.role,
      isActive: users.isActive,
      isDeleted: users.isDeleted,
      isVerified: users.isVerified,
      sessionUserId: sessions.userId,
      revokedAt: sessions.revokedAt,
      absoluteExpiresAt: sessions.absoluteExpiresAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('sid')))
    .limit(1)
    .prepare('auth_guard_session');

  /** Verifies the token, then re-checks user state and session in one query; sets `request.auth`. */
  async function authenticate(request: FastifyRequest): Promise<AuthContext> {
    const { token, fromCookie } = readAccessToken(request);
    if (!token) throw unauthenticated('No Token Received');
    if (fromCookie && config.cookie.sameSite === 'none' && STATE_CHANGING.has(request.method)) {
      // Cross-site cookies ride on forged form posts too: only the configured front ends may use them.
      const origin = request.headers.origin;
      if (!origin || !allowedOrigins.has(origin)) throw forbidden('Request origin is not allowed');
    }
    const now = clock.now();
    const payload = await tokens.verifyAccessToken(token, now);
    const [row] = await sessionQuery.execute({ sid: payload.sid });
    if (!row || row.sessionUserId !== payload.userId) throw unauthenticated('User Does Not Exist');
    if (row.revokedAt || row.absoluteExpiresAt <= now)
      throw unauthenticated('Session has ended, please sign in again');
    const blocked = accountBlockReason(row);
    if (blocked) throw forbidden(blocked);
    const auth: AuthContext = {
      userId: row.userId,
      email: row.email,
      role: row.role,
      sessionId: payload.sid,
    };
    request.auth = auth;
    return auth;
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

  return { authenticate, requireAuth };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;

/** The authenticated caller of a guarded route. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}
