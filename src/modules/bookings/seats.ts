import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { seatsReleased, type WaitlistHandOff } from '../waitlists/hooks.js';
import { forgetKnownSeats } from './departure-gate.js';

/**
 * The only code that changes `departures.seats_booked`. Both directions are single conditional statements,
 * so concurrent requests can neither oversell (the WHERE clause and the CHECK constraint) nor release twice
 * (the `bookings.seats_held` flag flips once).
 */

/** Raw `execute` results differ by driver (pg, PGlite) but both carry `rows`. */
const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export interface HeldDeparture {
  id: string;
  tourId: string;
  currency: string;
  seatsBooked: number;
  capacity: number | null;
}

type HeldRow = {
  id: string;
  tour_id: string;
  currency: string;
  seats_booked: number;
  capacity: number | null;
};

const toHeld = (row: HeldRow): HeldDeparture => ({
  id: row.id,
  tourId: row.tour_id,
  currency: row.currency,
  seatsBooked: row.seats_booked,
  capacity: row.capacity,
});

const heldColumns = sql`id, tour_id, currency, seats_booked, capacity`;

/**
 * Holds `seats` on a departure that is open for booking (SCHEDULED and not started at `now`) if they are
 * free; undefined when it is sold out, closed, cancelled, started or gone.
 */
export async function holdSeats(
  tx: Executor,
  departureId: string,
  seats: number,
  now: Date,
): Promise<HeldDeparture | undefined> {
  const result = await tx.execute(sql`
    update departures set seats_booked = seats_booked + ${seats}, updated_at = now()
    where id = ${departureId} and status = 'SCHEDULED' and start_date > ${now.toISOString()}::timestamptz
      and (capacity is null or seats_booked + ${seats} <= capacity)
    returning ${heldColumns}`);
  const [row] = rowsOf<HeldRow>(result);
  return row ? toHeld(row) : undefined;
}

/**
 * Takes seats back for a booking that was paid after its hold ended (a late payment): allowed on any
 * departure that is not cancelled, as long as the seats are free.
 */
export async function reholdSeats(
  tx: Executor,
  departureId: string,
  seats: number,
): Promise<HeldDeparture | undefined> {
  const result = await tx.execute(sql`
    update departures set seats_booked = seats_booked + ${seats}, updated_at = now()
    where id = ${departureId} and status <> 'CANCELLED'
      and (capacity is null or seats_booked + ${seats} <= capacity)
    returning ${heldColumns}`);
  const [row] = rowsOf<HeldRow>(result);
  return row ? toHeld(row) : undefined;
}

/**
 * Gives back the seats of the given bookings that still hold seats, exactly once per booking, and
 * returns the ids whose seats were released. Every seat that comes free on a departure comes free here,
 * so this is also where the waitlists hear of it, in the same transaction: with `handOff`, the seats go
 * straight to the offers of those waiting who fit (nobody else can take them first); without, an offer job
 * is queued.
 */
export async function releaseHeldSeats(
  tx: Executor,
  bookingIds: string[],
  handOff?: WaitlistHandOff,
): Promise<string[]> {
  if (bookingIds.length === 0) return [];
  const ids = sql.join(
    bookingIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const result = await tx.execute(sql`
    with released as (
      update bookings set seats_held = false, updated_at = now()
      where id in (${ids}) and seats_held
      returning id, departure_id, guest_count
    ), per_departure as (
      select departure_id, sum(guest_count)::int as seats from released group by departure_id
    ), returned as (
      update departures set seats_booked = departures.seats_booked - per_departure.seats, updated_at = now()
      from per_departure where departures.id = per_departure.departure_id
      returning departures.id
    )
    select released.id, released.departure_id from released`);
  const released = rowsOf<{ id: string; departure_id: string }>(result);
  forgetKnownSeats(released.map((r) => r.departure_id));
  await seatsReleased(
    tx,
    released.map((r) => ({ bookingId: r.id, departureId: r.departure_id })),
    handOff,
  );
  return released.map((r) => r.id);
}

/** Marks a booking as holding seats again after a successful `reholdSeats` (late payment). */
export async function markSeatsHeld(tx: Executor, bookingId: string): Promise<void> {
  await tx.execute(sql`update bookings set seats_held = true, updated_at = now() where id = ${bookingId}`);
}
