import type { Database, Executor } from '../../db/client.js';
import type { AuthContext, ClientInfo } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import type { EventLog } from '../../lib/domain-events.js';
import { conflict, forbidden, notFound } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { listMeta, parseListQuery, project } from '../../lib/list-query.js';
import { hashPassword } from '../../lib/passwords.js';
import {
  countOtherActiveSuperAdmins,
  insertUser,
  listUsers,
  lockSuperAdminChanges,
  lockUser,
  type ProfileWithIsoInstants,
  preparePublicUserById,
  publicUserById,
  toPublicUser,
  updateUser,
  userListSpec,
} from './repo.js';
import type { PublicUser, RegisterInput, UpdateUserInput } from './schemas.js';

const PRIVILEGED_FIELDS = ['role', 'isActive', 'isDeleted', 'isVerified'] as const;

type UserEventType =
  | 'user_registered'
  | 'role_changed'
  | 'user_blocked'
  | 'user_unblocked'
  | 'user_deleted'
  | 'user_restored';
type SessionEndReason = 'role_changed' | 'user_blocked' | 'user_deleted';

/**
 * The security log and the sessions of an account, as this module changes them inside its own transactions.
 * The auth module provides them; declared here so that users never depends on auth.
 */
export interface AccountSecurity {
  recordEvent(
    db: Executor,
    event: {
      type: UserEventType;
      userId: string;
      actorId?: string;
      email: string;
      client: ClientInfo;
      details?: Record<string, unknown>;
      at: Date;
    },
  ): Promise<void>;
  /** Ends every live session of the user; how many were live. */
  endSessions(db: Executor, userId: string, reason: SessionEndReason, now: Date): Promise<number>;
}

/**
 * What else ends when an account is blocked or deleted, in the transaction that does it: its waitlist places
 * and open offers (the waitlists module provides it; declared here so that users never depends on it).
 */
export type AccountClosedHook = (tx: Executor, userId: string, actorId: string) => Promise<void>;

export function createUsersService(deps: {
  db: Database;
  clock: Clock;
  accountSecurity: AccountSecurity;
  events: EventLog;
  onAccountClosed?: AccountClosedHook;
}) {
  const { db, clock, accountSecurity, events: eventLog } = deps;
  const publicUserOf = preparePublicUserById(db);

  async function register(input: RegisterInput, client: ClientInfo): Promise<PublicUser> {
    const passwordHash = await hashPassword(input.password);
    const now = clock.now();
    return db.transaction(async (tx) => {
      const row = await insertUser(
        tx,
        {
          name: input.name,
          email: input.email,
          passwordHash,
          phone: input.phone,
          address: input.address,
          createdAt: now,
          updatedAt: now,
        },
        { provider: 'credentials', providerId: input.email },
      );
      await accountSecurity.recordEvent(tx, {
        type: 'user_registered',
        userId: row.id,
        email: row.email,
        client,
        at: now,
      });
      return (await publicUserById(tx, row.id))!;
    });
  }

  /** The caller's own profile, already read by the guard together with the session check. */
  function me(profile: ProfileWithIsoInstants): PublicUser {
    return toPublicUser(profile);
  }

  async function getById(id: string): Promise<PublicUser> {
    const user = isId(id) ? await publicUserOf(id) : undefined;
    if (!user) throw notFound('User not found');
    return user;
  }

  async function list(query: Record<string, unknown>) {
    const parsed = parseListQuery(query, userListSpec);
    const { rows, total } = await listUsers(db, parsed);
    const items = rows.map(toPublicUser).map((u) => ({ ...project(u, parsed.fields), _id: u._id }));
    return { items, meta: listMeta(parsed, total) };
  }

  /** PATCH /user/:id with the permission rules of the spec. */
  async function update(
    actor: AuthContext,
    targetId: string,
    input: UpdateUserInput,
    client: ClientInfo,
  ): Promise<PublicUser> {
    const privileged = PRIVILEGED_FIELDS.filter((f) => input[f] !== undefined);
    if (actor.role === 'USER' || actor.role === 'GUIDE') {
      if (targetId !== actor.userId) throw forbidden('You can only update your own profile');
      if (privileged.length > 0) throw forbidden(`You are not permitted to change ${privileged.join(', ')}`);
    }
    if (!isId(targetId)) throw notFound('User not found');
    const now = clock.now();

    let ended: { reason: SessionEndReason; sessions: number } | undefined;
    const updated = await db.transaction(async (tx) => {
      const target = await lockUser(tx, targetId);
      if (!target) throw notFound('User not found');
      if (actor.role === 'ADMIN') {
        if (target.role === 'SUPER_ADMIN') throw forbidden('An admin cannot change a super admin');
        if (input.role === 'SUPER_ADMIN')
          throw forbidden('Only a super admin can grant the SUPER_ADMIN role');
      }

      const roleChanged = input.role !== undefined && input.role !== target.role;
      const activeChanged = input.isActive !== undefined && input.isActive !== target.isActive;
      const deletedChanged = input.isDeleted !== undefined && input.isDeleted !== target.isDeleted;
      const unverified = input.isVerified === false && target.isVerified;
      const disables =
        (roleChanged && input.role !== 'SUPER_ADMIN') ||
        (activeChanged && input.isActive !== 'ACTIVE') ||
        (deletedChanged && input.isDeleted === true) ||
        unverified;
      if (target.role === 'SUPER_ADMIN' && disables) {
        await lockSuperAdminChanges(tx);
        const targetCanSignIn = target.isActive === 'ACTIVE' && !target.isDeleted && target.isVerified;
        if (targetCanSignIn && (await countOtherActiveSuperAdmins(tx, target.id)) === 0) {
          throw conflict('The last active super admin cannot be demoted, blocked or deleted');
        }
      }

      await updateUser(tx, target.id, {
        name: input.name,
        phone: input.phone,
        address: input.address,
        picture: input.picture,
        role: input.role,
        isActive: input.isActive,
        isDeleted: input.isDeleted,
        isVerified: input.isVerified,
        updatedAt: now,
      });

      const events: { type: UserEventType; details: Record<string, unknown>; revoke?: SessionEndReason }[] =
        [];
      if (roleChanged) {
        events.push({
          type: 'role_changed',
          details: { from: target.role, to: input.role },
          revoke: 'role_changed',
        });
      }
      if (activeChanged) {
        const blocking = input.isActive !== 'ACTIVE';
        events.push({
          type: blocking ? 'user_blocked' : 'user_unblocked',
          details: { from: target.isActive, to: input.isActive },
          revoke: blocking ? 'user_blocked' : undefined,
        });
      }
      if (deletedChanged) {
        events.push({
          type: input.isDeleted ? 'user_deleted' : 'user_restored',
          details: {},
          revoke: input.isDeleted ? 'user_deleted' : undefined,
        });
      }
      for (const event of events) {
        await accountSecurity.recordEvent(tx, {
          type: event.type,
          userId: target.id,
          actorId: actor.userId,
          email: target.email,
          client,
          details: event.details,
          at: now,
        });
      }
      const closed =
        (activeChanged && input.isActive !== 'ACTIVE') || (deletedChanged && input.isDeleted === true);
      if (closed) await deps.onAccountClosed?.(tx, target.id, actor.userId);
      const revoke = events.find((e) => e.revoke)?.revoke ?? (unverified ? 'user_blocked' : undefined);
      if (revoke)
        ended = { reason: revoke, sessions: await accountSecurity.endSessions(tx, target.id, revoke, now) };
      return (await publicUserById(tx, target.id))!;
    });
    if (ended && ended.sessions > 0) {
      eventLog(
        'session.revoked',
        { userId: targetId, actorId: actor.userId, ...ended },
        `${ended.sessions} session(s) ended by an admin's change (${ended.reason})`,
      );
    }
    return updated;
  }

  return { register, me, getById, list, update };
}

export type UsersService = ReturnType<typeof createUsersService>;
