import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';

/**
 * The only code that changes `tours.seats_booked`. Both directions are single conditional statements, so
 * concurrent requests can neither oversell (the WHERE clause and the CHECK constraint) nor release twice
 * (the `bookings.seats_held` flag flips once).
 */

/** Raw `execute` results differ by driver (pg, PGlite) but both carry `rows`. */
const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export interface HeldTour {
  id: string;
  title: string;
  costFromMinor: number | null;
  currency: string;
  startDate: Date | null;
  seatsBooked: number;
  maxGuest: number | null;
}

/** Holds `seats` on the tour if they are free; undefined when sold out (or the tour is gone). */
export async function holdSeats(tx: Executor, tourId: string, seats: number): Promise<HeldTour | undefined> {
  const result = await tx.execute(sql`
    update tours set seats_booked = seats_booked + ${seats}, updated_at = now()
    where id = ${tourId} and (max_guest is null or seats_booked + ${seats} <= max_guest)
    returning id, title, cost_from_minor, currency, start_date, seats_booked, max_guest`);
  const [row] = rowsOf<{
    id: string;
    title: string;
    cost_from_minor: string | number | null;
    currency: string;
    start_date: string | Date | null;
    seats_booked: number;
    max_guest: number | null;
  }>(result);
  if (!row) return undefined;
  return {
    id: row.id,
    title: row.title,
    costFromMinor: row.cost_from_minor === null ? null : Number(row.cost_from_minor),
    currency: row.currency,
    startDate: row.start_date === null ? null : new Date(row.start_date),
    seatsBooked: row.seats_booked,
    maxGuest: row.max_guest,
  };
}

/**
 * Gives back the seats of the given bookings that still hold seats, exactly once per booking, and
 * returns the ids whose seats were released.
 */
export async function releaseHeldSeats(tx: Executor, bookingIds: string[]): Promise<string[]> {
  if (bookingIds.length === 0) return [];
  const ids = sql.join(
    bookingIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const result = await tx.execute(sql`
    with released as (
      update bookings set seats_held = false, updated_at = now()
      where id in (${ids}) and seats_held
      returning id, tour_id, guest_count
    ), per_tour as (
      select tour_id, sum(guest_count)::int as seats from released group by tour_id
    ), returned as (
      update tours set seats_booked = tours.seats_booked - per_tour.seats, updated_at = now()
      from per_tour where tours.id = per_tour.tour_id
      returning tours.id
    )
    select released.id from released`);
  return rowsOf<{ id: string }>(result).map((r) => r.id);
}

/** Marks a booking as holding seats again after a successful `holdSeats` (late payment re-hold). */
export async function markSeatsHeld(tx: Executor, bookingId: string): Promise<void> {
  await tx.execute(sql`update bookings set seats_held = true, updated_at = now() where id = ${bookingId}`);
}
