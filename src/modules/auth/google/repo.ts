import { and, eq, lte } from 'drizzle-orm';
import type { Executor } from '../../../db/client.js';
import { oauthFlows, userAuths, users } from '../../../db/schema/index.js';

export const GOOGLE_PROVIDER = 'google';

export type OAuthFlowRow = typeof oauthFlows.$inferSelect;
export type NewOAuthFlow = typeof oauthFlows.$inferInsert;

export async function insertFlow(db: Executor, flow: NewOAuthFlow): Promise<void> {
  await db.insert(oauthFlows).values(flow);
}

/** Removes and returns the flow in one statement, so two callbacks racing with the same state cannot both get it. */
export async function takeFlow(
  db: Executor,
  provider: string,
  stateHash: string,
): Promise<OAuthFlowRow | undefined> {
  const [row] = await db
    .delete(oauthFlows)
    .where(and(eq(oauthFlows.provider, provider), eq(oauthFlows.stateHash, stateHash)))
    .returning();
  return row;
}

/** Flows abandoned at the provider; purged as new ones start so the table stays small. */
export async function deleteExpiredFlows(db: Executor, now: Date): Promise<void> {
  await db.delete(oauthFlows).where(lte(oauthFlows.expiresAt, now));
}

/** The user a provider subject is linked to, locked for the rest of the transaction. */
export async function lockUserByProviderSubject(db: Executor, provider: string, subject: string) {
  const [row] = await db
    .select({ user: users })
    .from(userAuths)
    .innerJoin(users, eq(users.id, userAuths.userId))
    .where(and(eq(userAuths.provider, provider), eq(userAuths.providerId, subject)))
    .for('update', { of: users });
  return row?.user;
}

/** `email` must already be normalised (trimmed, lower-cased). */
export async function lockUserByEmail(db: Executor, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email)).for('update');
  return row;
}

/** The provider subject already linked to a user, if any (a user links at most one account per provider). */
export async function linkedSubject(
  db: Executor,
  userId: string,
  provider: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ providerId: userAuths.providerId })
    .from(userAuths)
    .where(and(eq(userAuths.userId, userId), eq(userAuths.provider, provider)))
    .limit(1);
  return row?.providerId;
}

/** Removes a sign-in method of a user (e.g. `credentials` once its password is dropped). */
export async function removeUserAuth(db: Executor, userId: string, provider: string): Promise<void> {
  await db.delete(userAuths).where(and(eq(userAuths.userId, userId), eq(userAuths.provider, provider)));
}
