import type { Database } from '../../db/client.js';
import type { RowsQuery } from '../../db/prepared-rows.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { forbidden, unauthenticated } from '../../lib/errors.js';
import type { ProfileWithIsoInstants } from '../users/repo.js';
import { type GuardSessionRow, prepareGuardStatements } from './repo.js';
import { accountBlockReason } from './sessions.js';
import type { TokenService } from './tokens.js';

/**
 * The check behind every guarded route: the access token is verified, then the session and the state of its
 * user are read again from the database (one statement), so a revoked session or a blocked account is refused
 * at once, whatever the token still says.
 */
export function createSessionCheck(deps: { db: Database; tokens: TokenService; clock: Clock }) {
  const { tokens, clock } = deps;
  const statements = prepareGuardStatements(deps.db);

  async function check<Row extends GuardSessionRow>(
    accessToken: string,
    statement: RowsQuery<Row>,
  ): Promise<{ auth: AuthContext; row: Row }> {
    const now = clock.now();
    const payload = await tokens.verifyAccessToken(accessToken, now);
    const [row] = await statement({ sid: payload.sid });
    if (!row || row.sessionUserId !== payload.userId) throw unauthenticated('User Does Not Exist');
    // Both instants at millisecond precision, as Dates compare.
    if (row.revokedAt !== null || Date.parse(row.absoluteExpiresAt) <= now.getTime())
      throw unauthenticated('Session has ended, please sign in again');
    const blocked = accountBlockReason(row);
    if (blocked) throw forbidden(blocked);
    return { auth: { userId: row.id, email: row.email, role: row.role, sessionId: payload.sid }, row };
  }

  return {
    /** The caller an access token stands for; 401 when the token or its session is not valid, 403 when blocked. */
    async caller(accessToken: string): Promise<AuthContext> {
      return (await check(accessToken, statements.session)).auth;
    },

    /** The same check, also giving the caller's public profile (read by the same statement). */
    async callerWithProfile(
      accessToken: string,
    ): Promise<{ auth: AuthContext; profile: ProfileWithIsoInstants }> {
      const { auth, row } = await check(accessToken, statements.profile);
      const { sessionUserId: _user, revokedAt: _revoked, absoluteExpiresAt: _expires, ...profile } = row;
      return { auth, profile };
    },
  };
}

export type SessionCheck = ReturnType<typeof createSessionCheck>;
