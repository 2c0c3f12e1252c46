import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { IS_ACTIVE, ROLES, userAuths, users } from '../../db/schema/index.js';
import { countAll, type ListSpec, type ParsedList } from '../../lib/list-query.js';
import type { PublicUser } from './schemas.js';

export type UserRow = typeof users.$inferSelect;
export type SignInMethod = { provider: string; providerId: string };

/**
 * The sign-in methods of the `users` row in scope, oldest first, as a JSON array (`[]` when it has none). The
 * subquery is a nested sql`` on purpose: in a select from one table the ORM writes the top-level columns of a
 * selected expression without their table, which here would compare user_auths' own id instead of the user's.
 */
const signInMethods = sql<SignInMethod[]>`coalesce((${sql`
        select json_agg(json_build_object('provider', ${userAuths.provider}, 'providerId', ${userAuths.providerId})
                        order by ${userAuths.createdAt})
        from ${userAuths} where ${userAuths.userId} = ${users.id}`}), '[]'::json)`;

/**
 * A user's public profile with their sign-in methods, as the columns of one select: the one definition behind
 * every statement that answers with a profile (GET /user/:id, the guard's profile read, sign-in, the lists).
 */
export const profileColumns = {
  id: users.id,
  name: users.name,
  email: users.email,
  role: users.role,
  phone: users.phone,
  picture: users.picture,
  address: users.address,
  isDeleted: users.isDeleted,
  isActive: users.isActive,
  isVerified: users.isVerified,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  auths: signInMethods,
};

/** A user row without its password hash, with the sign-in methods (`profileColumns`). */
export type UserProfile = Omit<UserRow, 'passwordHash'> & { auths: SignInMethod[] };

/** A profile whose instants are already ISO text (the guard's profile read, shaped by PostgreSQL). */
export type ProfileWithIsoInstants = Omit<UserProfile, 'createdAt' | 'updatedAt'> & {
  createdAt: string;
  updatedAt: string;
};

const isoOf = (instant: Date | string) => (typeof instant === 'string' ? instant : instant.toISOString());

export function toPublicUser(profile: UserProfile | ProfileWithIsoInstants): PublicUser {
  return {
    _id: profile.id,
    name: profile.name,
    email: profile.email,
    role: profile.role,
    phone: profile.phone,
    picture: profile.picture,
    address: profile.address,
    isDeleted: profile.isDeleted,
    isActive: profile.isActive,
    isVerified: profile.isVerified,
    auths: profile.auths.map((a) => ({ provider: a.provider, providerId: a.providerId })),
    createdAt: isoOf(profile.createdAt),
    updatedAt: isoOf(profile.updatedAt),
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

/**
 * Locks the user row for the rest of the transaction. `no key update`: rows that reference the user (a booking or an offer made
 * for them meanwhile) need not wait for it, so the change may end their waitlist places without deadlocking.
 */
export async function lockUser(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).for('no key update');
  return row;
}

export async function publicUserById(db: Executor, id: string): Promise<PublicUser | undefined> {
  const [row] = await db.select(profileColumns).from(users).where(eq(users.id, id));
  return row ? toPublicUser(row) : undefined;
}

/** GET /user/:id: the profile by id (named prepared statement `public_user_by_id`). */
export function publicUserByIdStatement(db: Database) {
  return db
    .select(profileColumns)
    .from(users)
    .where(eq(users.id, sql.placeholder('id')));
}

/**
 * The profile read behind GET /user/:id as a named prepared statement, so neither the ORM's query building nor
 * PostgreSQL's parsing and planning is repeated per request.
 */
export function preparePublicUserById(db: Database) {
  const query = publicUserByIdStatement(db).prepare('public_user_by_id');
  return async (id: string): Promise<PublicUser | undefined> => {
    const [row] = await query.execute({ id });
    return row ? toPublicUser(row) : undefined;
  };
}

export async function insertUser(
  db: Executor,
  values: typeof users.$inferInsert,
  auth: SignInMethod,
): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  await db
    .insert(userAuths)
    .values({ userId: row!.id, provider: auth.provider, providerId: auth.providerId });
  return row!;
}

/** Adds a sign-in method unless the user already has it. */
export async function addUserAuth(db: Executor, userId: string, auth: SignInMethod): Promise<void> {
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
    role: { column: users.role, kind: { enum: ROLES } },
    isActive: { column: users.isActive, kind: { enum: IS_ACTIVE } },
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

/** A page of profiles and the total of the list. */
export async function listUsers(db: Executor, parsed: ParsedList) {
  const [rows, [count]] = await Promise.all([
    db
      .select(profileColumns)
      .from(users)
      .where(parsed.where)
      .orderBy(...parsed.orderBy)
      .limit(parsed.limit)
      .offset(parsed.offset),
    db.select({ total: countAll }).from(users).where(parsed.where),
  ]);
  return { rows, total: count?.total ?? 0 };
}
