import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamps, tstz } from './columns.js';

export const ROLES = ['SUPER_ADMIN', 'ADMIN', 'USER', 'GUIDE'] as const;
export type Role = (typeof ROLES)[number];
export const IS_ACTIVE = ['ACTIVE', 'INACTIVE', 'BLOCKED'] as const;
export type IsActive = (typeof IS_ACTIVE)[number];

export const users = pgTable(
  'users',
  {
    id: id(),
    name: text('name').notNull(),
    /** Normalised: trimmed and lower-cased before it is stored or looked up. */
    email: text('email').notNull(),
    passwordHash: text('password_hash'),
    role: text('role').$type<Role>().notNull().default('USER'),
    phone: text('phone'),
    picture: text('picture'),
    address: text('address'),
    isDeleted: boolean('is_deleted').notNull().default(false),
    isActive: text('is_active').$type<IsActive>().notNull().default('ACTIVE'),
    isVerified: boolean('is_verified').notNull().default(false),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_created_at_idx').on(t.createdAt),
    index('users_role_idx').on(t.role),
    index('users_stats_idx').on(t.isDeleted, t.isActive, t.role, t.createdAt),
    // Admin user statistics: users who signed up in the last 7/30 days, without visiting the table.
    index('users_live_created_idx').on(t.createdAt).where(sql`not ${t.isDeleted}`),
    index('users_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('users_email_trgm_idx').using('gin', sql`${t.email} gin_trgm_ops`),
    check('users_role_check', sql`${t.role} in ('SUPER_ADMIN','ADMIN','USER','GUIDE')`),
    check('users_is_active_check', sql`${t.isActive} in ('ACTIVE','INACTIVE','BLOCKED')`),
  ],
);

/** Sign-in methods of a user: `credentials` (providerId = email) or `google` (providerId = OIDC subject). */
export const userAuths = pgTable(
  'user_auths',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    providerId: text('provider_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('user_auths_provider_key').on(t.provider, t.providerId),
    index('user_auths_user_id_idx').on(t.userId),
  ],
);

/**
 * One row per sign-in. The refresh token's unique id is derived from (session, generation), so the
 * successor of a token can be re-issued inside the grace window without storing any token in clear.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    generation: integer('generation').notNull().default(0),
    currentTokenHash: text('current_token_hash').notNull(),
    previousTokenHash: text('previous_token_hash'),
    currentIssuedAt: tstz('current_issued_at').notNull().default(sql`now()`),
    rotatedAt: tstz('rotated_at'),
    createdAt: createdAt(),
    lastUsedAt: tstz('last_used_at').notNull().default(sql`now()`),
    idleExpiresAt: tstz('idle_expires_at').notNull(),
    absoluteExpiresAt: tstz('absolute_expires_at').notNull(),
    revokedAt: tstz('revoked_at'),
    revokedReason: text('revoked_reason'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    provider: text('provider').notNull().default('credentials'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

export const securityEvents = pgTable(
  'security_events',
  {
    id: id(),
    type: text('type').notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    email: text('email'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('security_events_created_at_idx').on(t.createdAt),
    index('security_events_user_id_idx').on(t.userId),
    index('security_events_actor_id_idx').on(t.actorId),
    index('security_events_type_idx').on(t.type),
  ],
);

/** Email one-time codes: only the hash is stored; attempts are counted per code. */
export const otpCodes = pgTable(
  'otp_codes',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    consumedAt: tstz('consumed_at'),
    createdAt: createdAt(),
  },
  (t) => [index('otp_codes_user_id_idx').on(t.userId, t.createdAt)],
);

export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('password_reset_tokens_hash_key').on(t.tokenHash),
    index('password_reset_tokens_user_id_idx').on(t.userId),
  ],
);

/** Failure counters for sign-in and code checks, shared by every instance (key = purpose + account). */
export const authThrottle = pgTable('auth_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  lastFailureAt: tstz('last_failure_at'),
  blockedUntil: tstz('blocked_until'),
});
