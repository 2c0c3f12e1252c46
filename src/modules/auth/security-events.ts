import type { Executor } from '../../db/client.js';
import { securityEvents } from '../../db/schema/index.js';
import type { ClientInfo } from './sessions.js';

export type SecurityEventType =
  | 'user_registered'
  | 'email_verification_sent'
  | 'email_verified'
  | 'sign_in'
  | 'sign_in_failed'
  | 'refresh_token_reuse'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'password_changed'
  | 'password_set'
  | 'password_reset_requested'
  | 'password_reset'
  | 'role_changed'
  | 'user_blocked'
  | 'user_unblocked'
  | 'user_deleted'
  | 'user_restored';

export interface SecurityEventInput {
  type: SecurityEventType;
  /** The account the event is about. */
  userId?: string | null;
  /** Who did it, when not the account itself (an admin). */
  actorId?: string | null;
  email?: string | null;
  client?: ClientInfo;
  /** Never secrets: no passwords, tokens, hashes or codes. */
  details?: Record<string, unknown>;
  at: Date;
}

/** Appends to the security log; pass the transaction of the change so both commit together. */
export async function recordSecurityEvent(db: Executor, event: SecurityEventInput): Promise<void> {
  await db.insert(securityEvents).values({
    type: event.type,
    userId: event.userId ?? null,
    actorId: event.actorId ?? null,
    email: event.email ?? null,
    ip: event.client?.ip ?? null,
    userAgent: event.client?.userAgent?.slice(0, 512) ?? null,
    details: event.details ?? {},
    createdAt: event.at,
  });
}
