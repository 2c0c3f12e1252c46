import { type AnyColumn, and, desc, eq, gt, isNull, ne, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { isoInstant, preparedRows } from '../../db/prepared-rows.js';
import {
  authThrottle,
  type IsActive,
  passwordResetTokens,
  type Role,
  securityEvents,
  sessions,
  users,
} from '../../db/schema/index.js';
import type { ClientInfo } from '../../lib/caller.js';
import { newId } from '../../lib/ids.js';
import { countAll, type ListSpec, type ParsedList } from '../../lib/list-query.js';
import { type ProfileWithIsoInstants, profileColumns, type SignInMethod } from '../users/repo.js';

/*
 * Every statement auth runs: sessions, the guard's checks, the sign-in statements, the throttle, reset tokens
 * and the security log. The named prepared statements are built by the exported `...Statement` functions and
 * prepared under their names here; test/sql keeps the SQL of each one, so a change to it shows in review.
 */

const param = (name: string) => sql.placeholder(name);

// ---- Sessions ----

export type NewSessionRow = typeof sessions.$inferInsert;

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'revoked_by_user'
  | 'refresh_token_reuse'
  | 'password_changed'
  | 'password_reset'
  | 'role_changed'
  | 'user_blocked'
  | 'user_deleted';

export async function insertSession(db: Executor, row: NewSessionRow): Promise<void> {
  await db.insert(sessions).values(row);
}

/** The session and the state of its user, the session row locked for the rest of the transaction. */
export async function lockSessionWithUser(db: Executor, sessionId: string) {
  const [row] = await db
    .select({
      userId: sessions.userId,
      generation: sessions.generation,
      currentTokenHash: sessions.currentTokenHash,
      previousTokenHash: sessions.previousTokenHash,
      currentIssuedAt: sessions.currentIssuedAt,
      rotatedAt: sessions.rotatedAt,
      idleExpiresAt: sessions.idleExpiresAt,
      absoluteExpiresAt: sessions.absoluteExpiresAt,
      revokedAt: sessions.revokedAt,
      email: users.email,
      role: users.role,
      isActive: users.isActive,
      isDeleted: users.isDeleted,
      isVerified: users.isVerified,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId))
    .for('update', { of: sessions });
  return row;
}

/** Records a refresh: the new generation's token hash, the old one kept as the predecessor. */
export async function rotateSession(
  db: Executor,
  sessionId: string,
  rotation: {
    generation: number;
    previousTokenHash: string;
    currentTokenHash: string;
    currentIssuedAt: Date;
    at: Date;
    ip: string | undefined;
  },
): Promise<void> {
  await db
    .update(sessions)
    .set({
      generation: rotation.generation,
      previousTokenHash: rotation.previousTokenHash,
      currentTokenHash: rotation.currentTokenHash,
      currentIssuedAt: rotation.currentIssuedAt,
      rotatedAt: rotation.at,
      lastUsedAt: rotation.at,
      ip: rotation.ip,
    })
    .where(eq(sessions.id, sessionId));
}

/** Ends a session whatever its state (a session already known to be locked by the caller). */
export async function endSession(db: Executor, sessionId: string, reason: RevokeReason, now: Date) {
  await db.update(sessions).set({ revokedAt: now, revokedReason: reason }).where(eq(sessions.id, sessionId));
}

/** Revokes one live session of a user; false when there is no such live session. */
export async function revokeSession(
  db: Executor,
  userId: string,
  sessionId: string,
  reason: RevokeReason,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Revokes every live session of a user, optionally keeping one (the caller's own). Returns how many. */
export async function revokeUserSessions(
  db: Executor,
  userId: string,
  reason: RevokeReason,
  now: Date,
  exceptSessionId?: string,
): Promise<number> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined,
      ),
    )
    .returning({ id: sessions.id });
  return rows.length;
}

/** The user's sessions that can still be used, newest first. */
export function listLiveSessions(db: Executor, userId: string, now: Date) {
  return db
    .select({
      id: sessions.id,
      ip: sessions.ip,
      userAgent: sessions.userAgent,
      provider: sessions.provider,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      expiresAt: sessions.absoluteExpiresAt,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.absoluteExpiresAt, now)))
    .orderBy(desc(sessions.createdAt));
}

// ---- The guard ----

/*
 * The guard's two statements run through the driver (`preparedRows`), not Drizzle's prepared wrapper and row
 * mapping: the select lists give every column its name, and instants come as ISO text.
 */
const named = <T>(column: AnyColumn, name: string) => sql<T>`${column}`.as(name);

/** What the guard checks on every authenticated request: the session and the state of its user. */
const sessionStateColumns = {
  sessionUserId: named<string>(sessions.userId, 'sessionUserId'),
  revokedAt: isoInstant(sessions.revokedAt).as('revokedAt'),
  absoluteExpiresAt: sql<string>`${isoInstant(sessions.absoluteExpiresAt)}`.as('absoluteExpiresAt'),
};

/** A row of `auth_guard_session`. */
export interface GuardSessionRow {
  id: string;
  email: string;
  role: Role;
  isActive: IsActive;
  isDeleted: boolean;
  isVerified: boolean;
  sessionUserId: string;
  /** ISO text; null while the session is live. */
  revokedAt: string | null;
  /** ISO text. */
  absoluteExpiresAt: string;
}

/** A row of `auth_guard_profile`: the session state and the caller's public profile. */
export type GuardProfileRow = ProfileWithIsoInstants &
  Pick<GuardSessionRow, keyof typeof sessionStateColumns>;

/** `auth_guard_session`: the session check, run on every authenticated request. */
export function guardSessionStatement(db: Database) {
  return db
    .select({
      id: named<string>(users.id, 'id'),
      email: named<string>(users.email, 'email'),
      role: named<Role>(users.role, 'role'),
      isActive: named<IsActive>(users.isActive, 'isActive'),
      isDeleted: named<boolean>(users.isDeleted, 'isDeleted'),
      isVerified: named<boolean>(users.isVerified, 'isVerified'),
      ...sessionStateColumns,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, param('sid')))
    .limit(1);
}

/**
 * `auth_guard_profile`: the same check plus the public profile, for routes that answer with the caller's own
 * account: one round trip instead of two. Kept apart because the other routes need none of it.
 */
export function guardProfileStatement(db: Database) {
  return db
    .select({
      id: named<string>(users.id, 'id'),
      name: named<string>(users.name, 'name'),
      email: named<string>(users.email, 'email'),
      role: named<Role>(users.role, 'role'),
      phone: named<string | null>(users.phone, 'phone'),
      picture: named<string | null>(users.picture, 'picture'),
      address: named<string | null>(users.address, 'address'),
      isDeleted: named<boolean>(users.isDeleted, 'isDeleted'),
      isActive: named<IsActive>(users.isActive, 'isActive'),
      isVerified: named<boolean>(users.isVerified, 'isVerified'),
      createdAt: sql<string>`${isoInstant(users.createdAt)}`.as('createdAt'),
      updatedAt: sql<string>`${isoInstant(users.updatedAt)}`.as('updatedAt'),
      auths: sql<SignInMethod[]>`${profileColumns.auths}`.as('auths'),
      ...sessionStateColumns,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, param('sid')))
    .limit(1);
}

/** The guard's two reads as named prepared statements (parsed and planned once per connection); params `{ sid }`. */
export function prepareGuardStatements(db: Database) {
  return {
    session: preparedRows<GuardSessionRow>(db, 'auth_guard_session', guardSessionStatement(db)),
    profile: preparedRows<GuardProfileRow>(db, 'auth_guard_profile', guardProfileStatement(db)),
  };
}

// ---- Throttle ----

/**
 * Per-account counters in the `auth_throttle` table, so every instance sees the same counts. A policy turns
 * the number of hits inside its window into a wait before the next attempt is accepted. The wait is computed
 * in the statement that counts the hit, so no two requests can both take the last free try.
 */
export interface ThrottlePolicy {
  /** Hits older than this (since the last hit) are forgotten. */
  windowSeconds: number;
  /** The hit that first blocks the key. */
  blockFromHit: number;
  /** The wait after that hit; each further hit doubles it, up to `maxDelaySeconds`. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  message: string;
}

/** A policy's constants go into the SQL text, so a prepared statement keeps one text per policy. */
const constant = (n: number) => sql.raw(String(Math.trunc(n)));

/** The key's hit count once this hit is counted: the window starts again when the last hit is older than it. */
const hitsAfterThisOne = (policy: ThrottlePolicy, now: Date | Placeholder) =>
  sql<number>`case when ${authThrottle.lastFailureAt} is null
      or ${authThrottle.lastFailureAt} < ${now}::timestamptz - make_interval(secs => ${constant(policy.windowSeconds)})
    then 1 else ${authThrottle.failures} + 1 end`;

/** Until when a key with `hits` hits is blocked (null: it is not). */
const blockedUntilAfter = (policy: ThrottlePolicy, hits: SQL, now: Date | Placeholder) =>
  sql<Date | null>`case when ${hits} < ${constant(policy.blockFromHit)} then null::timestamptz
    else ${now}::timestamptz + make_interval(secs => least(${constant(policy.maxDelaySeconds)},
      ${constant(policy.firstDelaySeconds)} * power(2, least(${hits} - ${constant(policy.blockFromHit)}, 20))))
    end`;

/**
 * Counts one hit on the key and blocks it for the wait its count earns, in one statement. With `onlyIfFree`,
 * a key blocked at `now` is left as it is and the statement returns no row: the attempt was not reserved.
 */
export function countHitStatement(
  db: Executor,
  key: string | Placeholder,
  now: Date | Placeholder,
  policy: ThrottlePolicy,
  options: { onlyIfFree: boolean },
) {
  const hits = hitsAfterThisOne(policy, now);
  return db
    .insert(authThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: blockedUntilAfter(policy, sql`1`, now) })
    .onConflictDoUpdate({
      target: authThrottle.key,
      set: {
        failures: hits,
        lastFailureAt: sql`${now}::timestamptz`,
        blockedUntil: blockedUntilAfter(policy, hits, now),
      },
      setWhere: options.onlyIfFree
        ? sql`${authThrottle.blockedUntil} is null or ${authThrottle.blockedUntil} <= ${now}::timestamptz`
        : undefined,
    })
    .returning({ hits: authThrottle.failures });
}

/** Until when the key is blocked, if it has ever been. */
export async function throttleBlockedUntil(db: Executor, key: string): Promise<Date | null | undefined> {
  const [row] = await db
    .select({ blockedUntil: authThrottle.blockedUntil })
    .from(authThrottle)
    .where(eq(authThrottle.key, key))
    .limit(1);
  return row?.blockedUntil;
}

export async function clearThrottle(db: Executor, key: string): Promise<void> {
  await db.delete(authThrottle).where(eq(authThrottle.key, key));
}

// ---- Sign-in ----
// A password sign-in runs two named prepared statements: one read before the password check, one write after
// it. Around the argon2id hash, every statement a sign-in runs costs throughput, because the hash and the
// database share the same cores.

/**
 * `sign_in_account`: reserves one sign-in try on the email's throttle key (under `policy`) and reads the
 * account behind the email (its profile and password hash), in one statement. The try is taken before the password is checked, so parallel
 * guesses cannot all pass a throttle they read before any of them failed; `reserved` is false while the key is
 * blocked. It answers one row whether or not the account exists, so unknown emails do exactly the same work.
 */
export function signInAccountStatement(db: Database, policy: ThrottlePolicy) {
  const reservation = db
    .$with('reservation')
    .as(countHitStatement(db, param('key'), param('now'), policy, { onlyIfFree: true }));
  return db
    .with(reservation)
    .select({
      reserved: sql<boolean>`exists (select 1 from ${reservation})`,
      // The key's count with this try (null when it was not reserved): the try that locks is logged once.
      hits: sql<number | null>`(select failures from ${reservation})`,
      user: { ...profileColumns, passwordHash: users.passwordHash },
    })
    .from(sql`(select ${param('email')}::text as email) as attempt`)
    .leftJoin(users, eq(users.email, sql`attempt.email`));
}

export function prepareSignInAccount(db: Database, policy: ThrottlePolicy) {
  const query = signInAccountStatement(db, policy).prepare('sign_in_account');
  return async (throttleKey: string, email: string, now: Date) => {
    const [row] = await query.execute({ key: throttleKey, email, now });
    return {
      /** The account with its public profile and password hash; undefined for an unknown email. */
      user: row?.user ?? undefined,
      /** Whether this try was counted and may go on to the password check. */
      reserved: row?.reserved === true,
      /** The key's count with this try (null when it was not reserved). */
      hits: row?.hits ?? null,
    };
  };
}

/**
 * `sign_in_session`: writes a new session and its `sign_in` security event, and gives back the sign-in try the
 * right password reserved (clearing the email's throttle row), in one statement (INSERTs and a DELETE inside a
 * WITH): one round trip instead of a transaction's five, and still all or nothing, so no session exists without
 * its log entry.
 */
export function signInSessionStatement(db: Database) {
  const opened = db.$with('opened').as(
    db
      .insert(sessions)
      .values({
        id: param('id'),
        userId: param('userId'),
        generation: 0,
        currentTokenHash: param('currentTokenHash'),
        currentIssuedAt: param('currentIssuedAt'),
        createdAt: param('createdAt'),
        lastUsedAt: param('lastUsedAt'),
        idleExpiresAt: param('idleExpiresAt'),
        absoluteExpiresAt: param('absoluteExpiresAt'),
        ip: param('ip'),
        userAgent: param('userAgent'),
        provider: param('provider'),
      })
      .returning({
        id: sessions.id,
        userId: sessions.userId,
        ip: sessions.ip,
        userAgent: sessions.userAgent,
        provider: sessions.provider,
        createdAt: sessions.createdAt,
      }),
  );
  // Runs although nothing reads it: PostgreSQL carries out every data-modifying WITH.
  const cleared = db.$with('cleared').as(
    db
      .delete(authThrottle)
      .where(eq(authThrottle.key, param('throttleKey')))
      .returning({ key: authThrottle.key }),
  );
  // An INSERT ... SELECT lists every column of security_events in table order.
  return db
    .with(opened, cleared)
    .insert(securityEvents)
    .select(
      sql`select ${param('eventId')}::uuid, 'sign_in', ${opened.userId}, null::uuid, ${param('email')}::text,
        ${opened.ip}, ${opened.userAgent}, jsonb_build_object('sessionId', ${opened.id}, 'provider', ${opened.provider}),
        ${opened.createdAt}
        from ${opened}`,
    );
}

export function prepareSignInSession(db: Database) {
  const query = signInSessionStatement(db).prepare('sign_in_session');
  return async (row: NewSessionRow, email: string, throttleKey: string): Promise<void> => {
    await query.execute({
      id: row.id,
      userId: row.userId,
      currentTokenHash: row.currentTokenHash,
      currentIssuedAt: row.currentIssuedAt,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      idleExpiresAt: row.idleExpiresAt,
      absoluteExpiresAt: row.absoluteExpiresAt,
      ip: row.ip ?? null,
      userAgent: row.userAgent ?? null,
      provider: row.provider,
      eventId: newId(),
      email,
      throttleKey,
    });
  };
}

// ---- Password reset tokens ----

const liveResetToken = (tokenHash: string, now: Date) =>
  and(
    eq(passwordResetTokens.tokenHash, tokenHash),
    isNull(passwordResetTokens.usedAt),
    gt(passwordResetTokens.expiresAt, now),
  );

/** Spends every unused reset token of the user (only the newest link works). */
export async function spendOpenResetTokens(db: Executor, userId: string, now: Date): Promise<void> {
  await db
    .update(passwordResetTokens)
    .set({ usedAt: now })
    .where(and(eq(passwordResetTokens.userId, userId), isNull(passwordResetTokens.usedAt)));
}

export async function insertResetToken(
  db: Executor,
  values: { userId: string; tokenHash: string; expiresAt: Date; createdAt: Date },
): Promise<void> {
  await db.insert(passwordResetTokens).values(values);
}

/** The user a live (unused, unexpired) reset token belongs to. */
export async function findLiveResetToken(db: Executor, tokenHash: string, now: Date) {
  const [row] = await db
    .select({ userId: passwordResetTokens.userId })
    .from(passwordResetTokens)
    .where(liveResetToken(tokenHash, now))
    .limit(1);
  return row;
}

/** Spends the token only if it is still live: of two resets racing with one token, one gets the row. */
export async function spendResetToken(db: Executor, tokenHash: string, now: Date) {
  const [row] = await db
    .update(passwordResetTokens)
    .set({ usedAt: now })
    .where(liveResetToken(tokenHash, now))
    .returning({ userId: passwordResetTokens.userId });
  return row;
}

// ---- Security log ----

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

export const securityEventListSpec: ListSpec = {
  searchable: [securityEvents.email, securityEvents.type],
  filters: {
    type: { column: securityEvents.type, kind: 'text' },
    userId: { column: securityEvents.userId, kind: 'id' },
    actorId: { column: securityEvents.actorId, kind: 'id' },
  },
  sortable: { createdAt: securityEvents.createdAt, type: securityEvents.type },
  tieBreaker: securityEvents.id,
  projectable: [],
};

export async function listSecurityEvents(db: Executor, parsed: ParsedList) {
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(securityEvents)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(securityEvents).where(parsed.where),
  ]);
  return { rows, total: count?.total ?? 0 };
}
