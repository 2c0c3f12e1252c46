import type { Database } from '../../db/client.js';
import { listMeta, parseListQuery } from '../../lib/list-query.js';
import {
  listSecurityEvents,
  recordSecurityEvent,
  revokeUserSessions,
  securityEventListSpec,
} from './repo.js';
import type { SecurityEventView } from './schemas.js';

/**
 * The security log and session ending as other modules use them inside their own transactions (the users
 * module's `AccountSecurity`: registration, role changes, blocks), and the admin's view of the log.
 */
export function createAccountSecurity(deps: { db: Database }) {
  const { db } = deps;
  return {
    recordEvent: recordSecurityEvent,
    endSessions: revokeUserSessions,

    /** GET /user/security-events: the log, newest first unless sorted otherwise. */
    async listEvents(query: Record<string, unknown>) {
      const parsed = parseListQuery(query, securityEventListSpec);
      const { rows, total } = await listSecurityEvents(db, parsed);
      const items: SecurityEventView[] = rows.map((r) => ({
        _id: r.id,
        type: r.type,
        userId: r.userId,
        actorId: r.actorId,
        email: r.email,
        ip: r.ip,
        userAgent: r.userAgent,
        details: r.details,
        createdAt: r.createdAt.toISOString(),
      }));
      return { items, meta: listMeta(parsed, total) };
    },
  };
}

export type AccountSecurityService = ReturnType<typeof createAccountSecurity>;
