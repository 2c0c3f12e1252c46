import { type SQL, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';

async function rows<T>(db: Database, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

/**
 * Nothing half-written: every booking has its payment, every departure's seats_booked equals the seats
 * its holding bookings hold, and only PENDING or COMPLETE bookings hold seats.
 */
export async function expectConsistentBookings(db: Database) {
  const orphans = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from bookings b where not exists (select 1 from payments p where p.booking_id = b.id)`,
  );
  expect(orphans[0]!.n, 'bookings without a payment').toBe(0);
  const drift = await rows<{ id: string; seats_booked: number; held: number }>(
    db,
    sql`
    select d.id, d.seats_booked, coalesce(sum(b.guest_count) filter (where b.seats_held), 0)::int as held
    from departures d left join bookings b on b.departure_id = d.id
    group by d.id, d.seats_booked
    having d.seats_booked <> coalesce(sum(b.guest_count) filter (where b.seats_held), 0)`,
  );
  expect(drift, 'departures whose seats_booked differs from the seats held').toEqual([]);
  const strayHolds = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from bookings where seats_held and status not in ('PENDING', 'COMPLETE')`,
  );
  expect(strayHolds[0]!.n, 'finished bookings still holding seats').toBe(0);
}
