import type { Database } from '../../db/client.js';
import type { WaitlistHandOff } from '../waitlists/hooks.js';
import type { BookingPayments } from './payment-port.js';
import { lockExpiredHolds, moveBookings } from './repo.js';
import { releaseHeldSeats } from './seats.js';
import { ENDED_UNPAID } from './state.js';

/**
 * Background task: pending bookings whose hold ran out become FAILED (their unpaid payment FAILED) and
 * give their seats back (with `handOff`, to the offers of those waiting, in the same transaction); a pending
 * booking whose payment is PAID waits for an admin's review instead. Safe to run on several instances at once
 * (locked rows are skipped). Returns how many bookings expired.
 */
export async function expireStaleHolds(
  db: Database,
  payments: Pick<BookingPayments, 'closeUnpaid'>,
  now: Date,
  options: { batch?: number; handOff?: WaitlistHandOff } = {},
): Promise<number> {
  const { batch = 200, handOff } = options;
  let expired = 0;
  for (;;) {
    const ids = await db.transaction(async (tx) => {
      const locked = await lockExpiredHolds(tx, now, batch);
      await releaseHeldSeats(tx, locked, handOff);
      await moveBookings(tx, locked, ENDED_UNPAID.fail);
      await payments.closeUnpaid(tx, locked, ENDED_UNPAID.fail);
      return locked;
    });
    expired += ids.length;
    if (ids.length < batch) return expired;
  }
}
