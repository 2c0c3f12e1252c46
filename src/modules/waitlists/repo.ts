import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { users, type WaitlistStatus, waitlistEntries } from '../../db/schema/index.js';
import { countAll, inListWindow, type ListWindow } from '../../lib/list-query.js';

export type WaitlistEntryRow = typeof waitlistEntries.$inferSelect;

/** Place among the departure's WAITING entries in join order (1 = next); null when not waiting. */
const position = sql<number | null>`case when waitlist_entries.status = 'WAITING' then (
  select count(*)::int from waitlist_entries ahead
  where ahead.departure_id = waitlist_entries.departure_id and ahead.status = 'WAITING'
    and (ahead.created_at, ahead.id) <= (waitlist_entries.created_at, waitlist_entries.id)
) end`;

export type WaitlistEntryView = WaitlistEntryRow & { position: number | null };

const viewColumns = { entry: waitlistEntries, position };

export const joinOrder = [asc(waitlistEntries.createdAt), asc(waitlistEntries.id)];

export async function selectEntries(db: Executor, window: ListWindow): Promise<WaitlistEntryView[]> {
  const rows = await inListWindow(db.select(viewColumns).from(waitlistEntries).$dynamic(), window);
  return rows.map((r) => ({ ...r.entry, position: r.position }));
}

export async function countEntries(db: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(waitlistEntries).where(where);
  return row?.n ?? 0;
}

export async function findEntryView(db: Executor, id: string): Promise<WaitlistEntryView | undefined> {
  const [row] = await selectEntries(db, {
    where: eq(waitlistEntries.id, id),
    orderBy: [],
    limit: 1,
    offset: 0,
  });
  return row;
}

export async function lockEntry(tx: Executor, id: string): Promise<WaitlistEntryRow | undefined> {
  const [row] = await tx.select().from(waitlistEntries).where(eq(waitlistEntries.id, id)).for('update');
  return row;
}

/** The caller's live (WAITING or OFFERED) entry on the departure, if any. */
export async function findLiveEntry(db: Executor, departureId: string, userId: string) {
  const [row] = await db
    .select({ id: waitlistEntries.id, status: waitlistEntries.status })
    .from(waitlistEntries)
    .where(
      and(
        eq(waitlistEntries.departureId, departureId),
        eq(waitlistEntries.userId, userId),
        sql`${waitlistEntries.status} in ('WAITING','OFFERED')`,
      ),
    );
  return row;
}

export async function insertEntry(
  tx: Executor,
  values: { departureId: string; userId: string; guestCount: number },
): Promise<WaitlistEntryRow> {
  const [row] = await tx.insert(waitlistEntries).values(values).returning();
  return row!;
}

/** The departure's WAITING entries in join order, locked (a leaving traveller waits for the offer walk). */
export async function lockWaitingEntries(tx: Executor, departureId: string): Promise<WaitlistEntryRow[]> {
  return tx
    .select()
    .from(waitlistEntries)
    .where(and(eq(waitlistEntries.departureId, departureId), eq(waitlistEntries.status, 'WAITING')))
    .orderBy(...joinOrder)
    .for('update');
}

export async function setEntryStatus(
  tx: Executor,
  id: string,
  status: WaitlistStatus,
  offer?: { bookingId: string; offeredAt: Date },
): Promise<void> {
  await tx
    .update(waitlistEntries)
    .set({ status, updatedAt: sql`now()`, ...(offer ?? {}) })
    .where(eq(waitlistEntries.id, id));
}

export async function findProfile(db: Executor, userId: string) {
  const [row] = await db
    .select({ phone: users.phone, address: users.address })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}
