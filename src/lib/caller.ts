import type { Role } from '../db/schema/index.js';

/** The signed-in caller of a guarded route, as the auth guard establishes it. */
export interface AuthContext {
  userId: string;
  email: string;
  /** From the database, never from the token. */
  role: Role;
  sessionId: string;
}

/** Where a request comes from, for session rows and the security log. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}
