import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { otpCodes } from '../../db/schema/index.js';

/** Spends every open code of the user: only the newest code works. */
export async function closeOpenCodes(db: Executor, userId: string, now: Date): Promise<void> {
  await db
    .update(otpCodes)
    .set({ consumedAt: now })
    .where(and(eq(otpCodes.userId, userId), isNull(otpCodes.consumedAt)));
}

export async function insertCode(
  db: Executor,
  values: { userId: string; codeHash: string; expiresAt: Date; createdAt: Date },
): Promise<void> {
  await db.insert(otpCodes).values(values);
}

/** The user's newest unspent, unexpired code, locked for the rest of the transaction. */
export async function lockLiveCode(db: Executor, userId: string, now: Date) {
  const [row] = await db
    .select()
    .from(otpCodes)
    .where(and(eq(otpCodes.userId, userId), isNull(otpCodes.consumedAt), gt(otpCodes.expiresAt, now)))
    .orderBy(desc(otpCodes.createdAt))
    .limit(1)
    .for('update');
  return row;
}

export async function countFailedAttempt(db: Executor, id: string, attempts: number): Promise<void> {
  await db.update(otpCodes).set({ attempts }).where(eq(otpCodes.id, id));
}

export async function consumeCode(db: Executor, id: string, now: Date): Promise<void> {
  await db.update(otpCodes).set({ consumedAt: now }).where(eq(otpCodes.id, id));
}
