import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { bookings, payments, users, type WaitlistStatus, waitlistEntries } from '../../db/schema/index.js';
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

/**
 * The departure's WAITING entries in join order, locked (a leaving traveller waits for the offer walk), each
 * with whether its account may still get an offer (not blocked, not deleted).
 */
export async function lockWaitingEntries(tx: Executor, departureId: string) {
  return tx
    .select({
      entry: waitlistEntries,
      accountOpen: sql<boolean>`(${users.isActive} = 'ACTIVE' and not ${users.isDeleted})`,
    })
    .from(waitlistEntries)
    .innerJoin(users, eq(users.id, waitlistEntries.userId))
    .where(and(eq(waitlistEntries.departureId, departureId), eq(waitlistEntries.status, 'WAITING')))
    .orderBy(...joinOrder)
    .for('update', { of: waitlistEntries });
}

/** Locks the traveller's row, so one account's joins take turns and each counts the others' entries. */
export async function lockTraveller(tx: Executor, userId: string): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update');
}

/** The traveller's live (WAITING or OFFERED) entries: how many, and the seats they ask for. */
export async function countLiveEntries(tx: Executor, userId: string) {
  const [row] = await tx
    .select({
      entries: sql<number>`count(*)::int`,
      seats: sql<number>`coalesce(sum(${waitlistEntries.guestCount}), 0)::int`,
    })
    .from(waitlistEntries)
    .where(and(eq(waitlistEntries.userId, userId), inArray(waitlistEntries.status, ['WAITING', 'OFFERED'])));
  return { entries: row?.entries ?? 0, seats: row?.seats ?? 0 };
}

/** Ends the traveller's WAITING entries as EXPIRED (the wait ended; they did not leave). */
export async function expireWaitingEntriesOf(tx: Executor, userId: string): Promise<void> {
  await tx
    .update(waitlistEntries)
    .set({ status: 'EXPIRED', updatedAt: sql`now()` })
    .where(and(eq(waitlistEntries.userId, userId), eq(waitlistEntries.status, 'WAITING')));
}

/**
 * The bookings of the traveller's open offers: OFFERED entries whose booking still waits, unpaid, for its
 * payment (an offer paid but under review is left to an admin).
 */
export async function openOfferBookingsOf(tx: Executor, userId: string): Promise<string[]> {
  const rows = await tx
    .select({ bookingId: bookings.id })
    .from(waitlistEntries)
    .innerJoin(bookings, eq(bookings.id, waitlistEntries.bookingId))
    .innerJoin(payments, eq(payments.bookingId, bookings.id))
    .where(
      and(
        eq(waitlistEntries.userId, userId),
        eq(waitlistEntries.status, 'OFFERED'),
        eq(bookings.status, 'PENDING'),
        eq(payments.status, 'UNPAID'),
      ),
    )
    .orderBy(asc(bookings.id));
  return rows.map((r) => r.bookingId);
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
