import { and, eq, inArray, ne, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { securityEvents, userAuths, users } from '../../db/schema/index.js';
import { countAll, type ListSpec, type ParsedList } from '../../lib/list-query.js';
import type { PublicUser, SecurityEventView } from './schemas.js';

export type UserRow = typeof users.$inferSelect;
type AuthRow = { provider: string; providerId: string };

export function toPublicUser(row: Omit<UserRow, 'passwordHash'>, auths: AuthRow[]): PublicUser {
  return {
    _id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    phone: row.phone,
    picture: row.picture,
    address: row.address,
    isDeleted: row.isDeleted,
    isActive: row.isActive,
    isVerified: row.isVerified,
    auths: auths.map((a) => ({ provider: a.provider, providerId: a.providerId })),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/** `email` must already be normalised (trimmed, lower-cased). */
export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  return row;
}

/** Locks the user row for the rest of the transaction. */
export async function lockUser(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).for('update');
  return row;
}

async function authsByUser(db: Executor, userIds: string[]): Promise<Map<string, AuthRow[]>> {
  const byUser = new Map<string, AuthRow[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db
    .select({ userId: userAuths.userId, provider: userAuths.provider, providerId: userAuths.providerId })
    .from(userAuths)
    .where(inArray(userAuths.userId, userIds))
    .orderBy(userAuths.createdAt);
  for (const r of rows) {
    const list = byUser.get(r.userId) ?? [];
    list.push(r);
    byUser.set(r.userId, list);
  }
  return byUser;
}

export async function publicUsers(db: Executor, rows: UserRow[]): Promise<PublicUser[]> {
  const auths = await authsByUser(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toPublicUser(r, auths.get(r.id) ?? []));
}

export async function publicUserById(db: Executor, id: string): Promise<PublicUser | undefined> {
  const row = await findUserById(db, id);
  return row ? (await publicUsers(db, [row]))[0] : undefined;
}

/**
 * The profile read behind GET /user/me: the user and their sign-in methods in one named prepared statement,
 * so neither the ORM's query building nor PostgreSQL's parsing and planning is repeated per request.
 */
export function preparePublicUserById(db: Database) {
  const query = db
    .select({ user: users, provider: userAuths.provider, providerId: userAuths.providerId })
    .from(users)
    .leftJoin(userAuths, eq(userAuths.userId, users.id))
    .where(eq(users.id, sql.placeholder('id')))
    .orderBy(userAuths.createdAt)
    .prepare('public_user_by_id');
  return async (id: string): Promise<PublicUser | undefined> => {
    const rows = await query.execute({ id });
    if (!rows[0]) return undefined;
    const auths = rows.flatMap((r) =>
      r.provider !== null && r.providerId !== null
        ? [{ provider: r.provider, providerId: r.providerId }]
        : [],
    );
    return toPublicUser(rows[0].user, auths);
  };
}

export async function insertUser(
  db: Executor,
  values: typeof users.$inferInsert,
  auth: AuthRow,
): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  await db
    .insert(userAuths)
    .values({ userId: row!.id, provider: auth.provider, providerId: auth.providerId });
  return row!;
}

/** Adds a sign-in method unless the user already has it. */
export async function addUserAuth(db: Executor, userId: string, auth: AuthRow): Promise<void> {
  await db
    .insert(userAuths)
    .values({ userId, provider: auth.provider, providerId: auth.providerId })
    .onConflictDoNothing();
}

export async function updateUser(
  db: Executor,
  id: string,
  values: Partial<typeof users.$inferInsert>,
): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set(values).where(eq(users.id, id)).returning();
  return row;
}

/**
 * Serialises changes that could disable a super admin (a transaction-scoped advisory lock), so two super
 * admins demoting each other at once cannot leave none.
 */
export async function lockSuperAdminChanges(db: Executor): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${SUPER_ADMIN_LOCK})`);
}
const SUPER_ADMIN_LOCK = 727_001;

/** Super admins other than `exceptId` who can still sign in. */
export async function countOtherActiveSuperAdmins(db: Executor, exceptId: string): Promise<number> {
  const [row] = await db
    .select({ n: countAll })
    .from(users)
    .where(
      and(
        eq(users.role, 'SUPER_ADMIN'),
        ne(users.id, exceptId),
        eq(users.isActive, 'ACTIVE'),
        eq(users.isDeleted, false),
        eq(users.isVerified, true),
      ),
    );
  return row?.n ?? 0;
}

export const userListSpec: ListSpec = {
  searchable: [users.name, users.email, users.address],
  filters: {
    _id: { column: users.id, kind: 'id' },
    role: { column: users.role, kind: { enum: ['SUPER_ADMIN', 'ADMIN', 'USER', 'GUIDE'] } },
    isActive: { column: users.isActive, kind: { enum: ['ACTIVE', 'INACTIVE', 'BLOCKED'] } },
    isVerified: { column: users.isVerified, kind: 'boolean' },
    isDeleted: { column: users.isDeleted, kind: 'boolean' },
  },
  sortable: {
    createdAt: users.createdAt,
    updatedAt: users.updatedAt,
    name: users.name,
    email: users.email,
    role: users.role,
  },
  tieBreaker: users.id,
  projectable: [
    '_id',
    'name',
    'email',
    'role',
    'phone',
    'picture',
    'address',
    'isDeleted',
    'isActive',
    'isVerified',
    'auths',
    'createdAt',
    'updatedAt',
  ],
};

export async function listUsers(db: Executor, parsed: ParsedList) {
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(users)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(users).where(parsed.where),
  ]);
  return { rows, total: count?.total ?? 0 };
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

export async function listSecurityEvents(
  db: Executor,
  parsed: ParsedList,
): Promise<{ items: SecurityEventView[]; total: number }> {
  const where: SQL | undefined = parsed.where;
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(securityEvents)
      .where(where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(securityEvents).where(where),
  ]);
  const items = rows.map((r) => ({
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
  return { items, total: count?.total ?? 0 };
}
