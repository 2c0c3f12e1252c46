import { and, asc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import {
  type BookingStatus,
  bookings,
  type DepartureStatus,
  departures,
  tours,
  users,
} from '../../db/schema/index.js';
import { countAll, inListWindow, type ListSpec, type ListWindow } from '../../lib/list-query.js';

export type DepartureRow = typeof departures.$inferSelect;
export type NewDepartureRow = typeof departures.$inferInsert;

/** A departure with what its API shape needs from its tour (the price when the departure has none). */
const viewColumns = {
  departure: departures,
  tourCostFromMinor: tours.costFromMinor,
};
export type DepartureView = { departure: DepartureRow; tourCostFromMinor: number | null };

export async function selectDepartures(db: Executor, window: ListWindow): Promise<DepartureView[]> {
  return inListWindow(
    db.select(viewColumns).from(departures).innerJoin(tours, eq(tours.id, departures.tourId)).$dynamic(),
    window,
  );
}

export async function countDepartures(db: Executor, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(departures).where(where);
  return row?.n ?? 0;
}

export async function findDepartureView(db: Executor, id: string): Promise<DepartureView | undefined> {
  const [row] = await selectDepartures(db, {
    where: eq(departures.id, id),
    orderBy: [],
    limit: 1,
    offset: 0,
  });
  return row;
}

export async function findDepartureViews(db: Executor, ids: string[]): Promise<DepartureView[]> {
  if (ids.length === 0) return [];
  return selectDepartures(db, {
    where: inArray(departures.id, ids),
    orderBy: [asc(departures.startDate), asc(departures.id)],
    limit: ids.length,
    offset: 0,
  });
}

/** Locks a departure until the transaction ends: seat holds, changes and cancellation wait for it. */
export async function lockDepartureRow(tx: Executor, id: string): Promise<DepartureRow | undefined> {
  const [row] = await tx.select().from(departures).where(eq(departures.id, id)).for('update');
  return row;
}

export async function findDepartureRow(db: Executor, id: string): Promise<DepartureRow | undefined> {
  const [row] = await db.select().from(departures).where(eq(departures.id, id));
  return row;
}

/**
 * The tour's next bookable departure: the soonest SCHEDULED one not started at `now`. With `lock`, its
 * row stays locked until the transaction ends.
 */
export async function findNextBookableDeparture(
  db: Executor,
  tourId: string,
  now: Date,
  lock = false,
): Promise<DepartureRow | undefined> {
  const query = db
    .select()
    .from(departures)
    .where(
      and(eq(departures.tourId, tourId), eq(departures.status, 'SCHEDULED'), gt(departures.startDate, now)),
    )
    .orderBy(asc(departures.startDate))
    .limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function insertDepartureRows(tx: Executor, rows: NewDepartureRow[]): Promise<DepartureRow[]> {
  if (rows.length === 0) return [];
  return tx.insert(departures).values(rows).returning();
}

export async function updateDepartureRow(
  tx: Executor,
  id: string,
  values: Partial<NewDepartureRow>,
): Promise<DepartureRow | undefined> {
  const [row] = await tx
    .update(departures)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(departures.id, id))
    .returning();
  return row;
}

export async function setDepartureStatusRow(
  tx: Executor,
  id: string,
  status: DepartureStatus,
  cancelReason: string | null = null,
): Promise<DepartureRow | undefined> {
  return updateDepartureRow(tx, id, { status, cancelReason });
}

/** The departure's bookings (optionally only those in `statuses`), oldest first, with their customers. */
export async function selectDepartureBookings(
  db: Executor,
  departureId: string,
  statuses?: readonly BookingStatus[],
) {
  return db
    .select({
      id: bookings.id,
      userId: bookings.userId,
      status: bookings.status,
      guestCount: bookings.guestCount,
      seatsHeld: bookings.seatsHeld,
      amountMinor: bookings.amountMinor,
      currency: bookings.currency,
      userName: users.name,
      userEmail: users.email,
    })
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .where(
      and(
        eq(bookings.departureId, departureId),
        statuses ? inArray(bookings.status, [...statuses]) : undefined,
      ),
    )
    .orderBy(asc(bookings.createdAt), asc(bookings.id));
}
export type DepartureBooking = Awaited<ReturnType<typeof selectDepartureBookings>>[number];

/**
 * Locks the departure's bookings in `statuses` (booking rows before the departure row: the order every
 * writer of both uses) and returns their ids.
 */
export async function lockDepartureBookings(
  tx: Executor,
  departureId: string,
  statuses: readonly BookingStatus[],
): Promise<string[]> {
  const rows = await tx
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.departureId, departureId), inArray(bookings.status, [...statuses])))
    .orderBy(asc(bookings.id))
    .for('update');
  return rows.map((r) => r.id);
}

/** A user's role, when the user exists and is not deleted. */
export async function findUserRole(db: Executor, userId: string) {
  const [row] = await db
    .select({ role: users.role })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.isDeleted, false)))
    .for('key share');
  return row?.role;
}

/** Whether the tour exists; with `lock`, its row is key-share locked (it cannot be deleted meanwhile). */
export async function findTourForDepartures(db: Executor, tourId: string, lock = false) {
  const query = db
    .select({
      id: tours.id,
      title: tours.title,
      maxGuest: tours.maxGuest,
      currency: tours.currency,
      costFromMinor: tours.costFromMinor,
    })
    .from(tours)
    .where(eq(tours.id, tourId));
  const [row] = lock ? await query.for('key share') : await query;
  return row;
}

/** Departure lists page by start date; they take no search, filter or projection from the query string. */
export const departureListSpec: ListSpec = {
  searchable: [],
  filters: {},
  sortable: { startDate: departures.startDate },
  tieBreaker: departures.id,
  projectable: [],
};
