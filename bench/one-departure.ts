import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import type { Fixtures } from './fixtures.js';
import type { LoadRequest } from './load.js';
import type { Scenario } from './scenarios.js';

/**
 * Bookings on ONE departure from two app instances sharing the database: every request competes for the same
 * departure row, from two processes with a pool each, as replicas behind a balancer would. Two departures: one
 * with room for every request of the run (the pace of contended holds), one with a few seats left that sells
 * out during the run (every answer after that is 409 SOLD_OUT, and nothing may be oversold).
 */

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export interface OneDeparture {
  tourId: string;
  departureId: string;
  /** Seats free when the run starts. */
  seatsLeft: number;
}

export interface OneDepartureFixtures {
  ample: OneDeparture;
  limited: OneDeparture;
}

/**
 * Two upcoming departures of two priced tours (from the end of the id order; the 5-tour booking scenario
 * takes tours from the start): one given room for a million more guests, one `limitedSeats` free seats.
 */
export async function prepareOneDeparture(db: Database, limitedSeats: number): Promise<OneDepartureFixtures> {
  const picked = rowsOf<{ id: string; tour_id: string }>(
    await db.execute(sql`select distinct on (t.id) d.id, d.tour_id from departures d join tours t on t.id = d.tour_id
      where d.start_date > now() + interval '14 days' and d.status = 'SCHEDULED' and t.cost_from_minor is not null
      order by t.id desc, d.start_date limit 2`),
  );
  if (picked.length < 2) throw new Error('the dataset has too few upcoming departures');
  const open = async (row: { id: string; tour_id: string }, seats: number): Promise<OneDeparture> => {
    await db.execute(sql`update departures set capacity = seats_booked + ${seats} where id = ${row.id}`);
    return { tourId: row.tour_id, departureId: row.id, seatsLeft: seats };
  };
  return { ample: await open(picked[0]!, 1_000_000), limited: await open(picked[1]!, limitedSeats) };
}

function rotate<T>(items: readonly T[]): () => T {
  let k = 0;
  return () => items[k++ % items.length]!;
}

const API = '/api/v1';

export function oneDepartureScenarios(f: Fixtures, one: OneDepartureFixtures): Scenario[] {
  const book = (departure: OneDeparture, guests: () => number): LoadRequest => {
    const customer = rotate(f.customers);
    return {
      method: 'POST',
      path: `${API}/booking`,
      next: () => ({
        headers: { authorization: customer().authorization },
        body: JSON.stringify({
          tour: departure.tourId,
          departure: departure.departureId,
          guestCount: guests(),
        }),
      }),
    };
  };
  return [
    {
      name: 'POST /booking (one departure, 2 instances)',
      target: 'two apps',
      kind: 'write',
      ok: [201],
      request: book(one.ample, () => 1),
    },
    {
      name: `POST /booking (one departure, 2 instances, ${one.limited.seatsLeft} seats)`,
      target: 'two apps',
      kind: 'write',
      // Sold out is the right answer once the seats are gone.
      ok: [201, 409],
      // The warm-up would sell the seats before the measurement.
      warmup: false,
      // 1 to 4 guests, so the last seats also meet requests for more than are left.
      request: book(one.limited, rotate([1, 2, 3, 4])),
    },
  ];
}

export interface DepartureSeats {
  capacity: number;
  /** departures.seats_booked */
  seatsBooked: number;
  /** Bookings holding seats (seats_held) and their guests. */
  holdingBookings: number;
  heldGuests: number;
}

export async function departureSeats(db: Database, departureId: string): Promise<DepartureSeats> {
  const [row] = rowsOf<{ capacity: number; seats_booked: number; bookings: number; guests: number }>(
    await db.execute(sql`select d.capacity, d.seats_booked,
        (select count(*)::int from bookings b where b.departure_id = d.id and b.seats_held) as bookings,
        (select coalesce(sum(b.guest_count), 0)::int from bookings b
          where b.departure_id = d.id and b.seats_held) as guests
      from departures d where d.id = ${departureId}`),
  );
  if (!row) throw new Error(`departure ${departureId} is gone`);
  return {
    capacity: row.capacity,
    seatsBooked: row.seats_booked,
    holdingBookings: row.bookings,
    heldGuests: row.guests,
  };
}

/** Seats sold beyond capacity, counted both ways (the departure's count and its holding bookings' guests). */
export const oversold = (s: DepartureSeats) =>
  Math.max(0, s.seatsBooked - s.capacity, s.heldGuests - s.capacity);

/** One line for the report: capacity, what is held, and whether the count and the bookings agree. */
export function describeSeats(label: string, s: DepartureSeats): string {
  const agree = s.seatsBooked === s.heldGuests;
  return (
    `${label}: capacity ${s.capacity}, ${s.seatsBooked} seats held by ${s.holdingBookings} bookings ` +
    `(${s.heldGuests} guests${agree ? ', the count agrees' : `, **the count says ${s.seatsBooked}**`}); ` +
    `oversold: ${oversold(s) === 0 ? '0' : `**${oversold(s)}**`}`
  );
}
