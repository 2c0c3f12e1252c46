import { and, eq, lte } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { idempotencyKeys } from '../../db/schema/index.js';
import { AppError, conflict } from '../../lib/errors.js';

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

export type IdempotencyClaim =
  | { kind: 'new'; recordId: string }
  | { kind: 'replay'; statusCode: number; body: unknown };

/**
 * Claims `key` for this request, or returns the stored response of the request that used it first. The
 * unique (user, key) index decides between concurrent requests: the loser sees IN_PROGRESS and gets a 409.
 */
export async function claimIdempotencyKey(
  db: Database,
  claim: { userId: string; key: string; requestHash: string; now: Date },
): Promise<IdempotencyClaim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [inserted] = await db
      .insert(idempotencyKeys)
      .values({
        userId: claim.userId,
        key: claim.key,
        requestHash: claim.requestHash,
        expiresAt: new Date(claim.now.getTime() + KEY_LIFETIME_MS),
      })
      .onConflictDoNothing()
      .returning({ id: idempotencyKeys.id });
    if (inserted) return { kind: 'new', recordId: inserted.id };

    const [existing] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, claim.userId), eq(idempotencyKeys.key, claim.key)));
    if (!existing) continue;
    if (existing.expiresAt <= claim.now) {
      await db
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.id, existing.id), lte(idempotencyKeys.expiresAt, claim.now)));
      continue;
    }
    if (existing.requestHash !== claim.requestHash) {
      throw new AppError(
        422,
        'IDEMPOTENCY_MISMATCH',
        'This Idempotency-Key was already used with a different request body',
        [{ path: 'Idempotency-Key', message: 'key reused with a different request body' }],
      );
    }
    if (existing.state === 'IN_PROGRESS') {
      throw conflict('A request with this Idempotency-Key is still being processed');
    }
    return { kind: 'replay', statusCode: existing.responseStatus ?? 200, body: existing.responseBody };
  }
  throw conflict('A request with this Idempotency-Key is still being processed');
}

export async function completeIdempotencyKey(
  db: Database,
  recordId: string,
  statusCode: number,
  body: unknown,
) {
  await db
    .update(idempotencyKeys)
    .set({ state: 'DONE', responseStatus: statusCode, responseBody: body })
    .where(eq(idempotencyKeys.id, recordId));
}

/** Failed requests are not remembered, so the client can retry with the same key. */
export async function releaseIdempotencyKey(db: Database, recordId: string) {
  await db.delete(idempotencyKeys).where(eq(idempotencyKeys.id, recordId));
}
