import { conflict } from '../../lib/errors.js';

/**
 * The 409 SOLD_OUT of an open departure without enough free seats. Its waitlist takes anyone whose party fits
 * the departure at all, so the message points there; a party larger than the whole departure is told that.
 */
export function soldOut(departure: { id: string; capacity: number | null }, guestCount: number) {
  if (departure.capacity !== null && guestCount > departure.capacity) {
    return conflict(
      `Not enough seats left on this departure: it has ${departure.capacity} seats in all, fewer than ${guestCount} guests`,
      'SOLD_OUT',
    );
  }
  return conflict(
    'Not enough seats left on this departure. It has a waitlist: join it with ' +
      `POST /api/v1/departures/${departure.id}/waitlist to be offered seats when they come free`,
    'SOLD_OUT',
  );
}
