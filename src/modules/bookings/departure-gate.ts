import { performance } from 'node:perf_hooks';
import { AppError } from '../../lib/errors.js';

/**
 * This process's traffic control for holds on a departure, for the rush when a popular departure opens.
 *
 * Every hold of a departure updates its one row, so PostgreSQL runs them one after another anyway. Letting a
 * crowd wait for that row lock inside PostgreSQL would park one pooled connection per waiting request until
 * the pool is empty and every other request (even a read) queues behind them. Here, at most
 * `HOLDS_IN_FLIGHT` holds of one departure run at a time per process; the rest wait in memory, in arrival
 * order, until a slot is free or their request's deadline passes.
 *
 * It also remembers, for a moment, how many seats a departure had free when it was last seen full or
 * nearly full: a request for more than that answers SOLD_OUT at once, without a query, a lock or a pooled
 * connection. Seats freed since are seen at once when this process freed them, and once that memory is
 * `KNOWN_SEATS_FRESH_MS` old when another instance did. The seats are still held only by the conditional update in
 * PostgreSQL: this memory can only refuse early, never sell.
 */

/** Holds of one departure running at once: enough to overlap their work before the row lock, no more. */
export const HOLDS_IN_FLIGHT = 4;
/** How long a departure's free seats, seen full or nearly so, are trusted without asking PostgreSQL. */
export const KNOWN_SEATS_FRESH_MS = 1000;
/** Departures whose seats are remembered; the oldest are forgotten past this. */
const KNOWN_SEATS_LIMIT = 10_000;

interface KnownSeats {
  tourId: string;
  free: number;
  seenAt: number;
}

interface Lane {
  running: number;
  waiting: (() => void)[];
}

export interface DepartureGate {
  /** True when the departure (of this tour) was seen a moment ago with fewer than `seats` free. */
  knownSoldOut(departureId: string, tourId: string, seats: number): boolean;
  /** Records the departure's seats as just read or written; only near-full ones are kept. */
  noteSeats(departure: { id: string; tourId: string; seatsBooked: number; capacity: number | null }): void;
  /**
   * Runs `work` when one of the departure's slots is free. Rejects with 503 if none frees before `deadline`
   * (a `performance.now()` instant), which only a request stuck far longer than any rush would see.
   */
  run<T>(departureId: string, deadline: number, work: () => Promise<T>): Promise<T>;
}

/**
 * What this process saw of nearly full departures, shared by its gates (one per app; tests run several apps in
 * one process on one database).
 */
const known = new Map<string, KnownSeats>();

/** Seats came free on these departures (a release in this process): a request sees them at once. */
export function forgetKnownSeats(departureIds: Iterable<string>): void {
  for (const id of departureIds) known.delete(id);
}

export function createDepartureGate(): DepartureGate {
  const lanes = new Map<string, Lane>();

  const release = (departureId: string, lane: Lane) => {
    const next = lane.waiting.shift();
    if (next) next();
    else {
      lane.running--;
      if (lane.running === 0) lanes.delete(departureId);
    }
  };

  return {
    knownSoldOut(departureId, tourId, seats) {
      const entry = known.get(departureId);
      if (!entry || entry.tourId !== tourId) return false;
      if (performance.now() - entry.seenAt > KNOWN_SEATS_FRESH_MS) {
        known.delete(departureId);
        return false;
      }
      return seats > entry.free;
    },

    noteSeats({ id, tourId, seatsBooked, capacity }) {
      if (capacity === null) return;
      const free = Math.max(0, capacity - seatsBooked);
      // Worth remembering only when few seats are left: it is what turns a crowd away.
      if (free > HOLDS_IN_FLIGHT) {
        known.delete(id);
        return;
      }
      known.delete(id);
      known.set(id, { tourId, free, seenAt: performance.now() });
      if (known.size > KNOWN_SEATS_LIMIT) known.delete(known.keys().next().value!);
    },

    async run(departureId, deadline, work) {
      let lane = lanes.get(departureId);
      if (!lane) {
        lane = { running: 0, waiting: [] };
        lanes.set(departureId, lane);
      }
      if (lane.running < HOLDS_IN_FLIGHT) lane.running++;
      else {
        const queued = lane;
        await new Promise<void>((resolve, reject) => {
          const turn = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(
            () => {
              const at = queued.waiting.indexOf(turn);
              if (at >= 0) queued.waiting.splice(at, 1);
              reject(
                new AppError(
                  503,
                  'SERVICE_UNAVAILABLE',
                  'This departure is being booked by many people at once; please try again',
                  [],
                  { 'retry-after': '1' },
                ),
              );
            },
            Math.max(0, deadline - performance.now()),
          );
          queued.waiting.push(turn);
        });
      }
      const current = lane;
      try {
        return await work();
      } finally {
        release(departureId, current);
      }
    },
  };
}
