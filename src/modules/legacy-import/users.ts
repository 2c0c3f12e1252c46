import { and, inArray, sql } from 'drizzle-orm';
import { userAuths, users } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import { mapUser, type UserRow } from './mappers.js';
import type { LegacyDocument } from './readers.js';
import { claim, newRows, type RunState, refuse, remember } from './run.js';

/* Users with their sign-in methods: a kept bcrypt password, a linked Google account. */

export async function loadUsers(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<UserRow>(state, 'users', docs, mapUser);
  if (rows.length === 0) return;
  const emails = new Set(
    (
      await state.tx
        .select({ email: users.email })
        .from(users)
        .where(
          inArray(
            users.email,
            rows.map((r) => r.email),
          ),
        )
    ).map((r) => r.email),
  );
  const googleIds = rows.flatMap((r) => (r.googleId ? [r.googleId] : []));
  const linked = new Set(
    googleIds.length === 0
      ? []
      : (
          await state.tx
            .select({ providerId: userAuths.providerId })
            .from(userAuths)
            .where(and(sql`${userAuths.provider} = 'google'`, inArray(userAuths.providerId, googleIds)))
        ).map((r) => r.providerId),
  );
  const accepted = rows.filter((row) => {
    if (emails.has(row.email)) {
      refuse(state, 'users', row.legacyId, `email ${row.email} is already used by another user`);
      return false;
    }
    if (row.googleId && !claim(linked, row.googleId)) {
      refuse(
        state,
        'users',
        row.legacyId,
        `Google account ${row.googleId} is already linked to another user`,
      );
      return false;
    }
    emails.add(row.email);
    return true;
  });
  if (accepted.length === 0) return;
  const values = accepted.map(({ legacyId: _legacy, googleId: _google, ...row }) => ({
    ...row,
    id: newId(),
  }));
  await state.tx.insert(users).values(values);
  const auths = accepted.flatMap((row, i) => {
    const userId = values[i]!.id;
    return [
      ...(row.passwordHash
        ? [{ userId, provider: 'credentials', providerId: row.email, createdAt: row.createdAt }]
        : []),
      ...(row.googleId
        ? [{ userId, provider: 'google', providerId: row.googleId, createdAt: row.createdAt }]
        : []),
    ];
  });
  if (auths.length > 0) await state.tx.insert(userAuths).values(auths).onConflictDoNothing();
  await remember(
    state,
    'users',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: values[i]!.id })),
  );
  state.report.counts.users.imported += accepted.length;
}
