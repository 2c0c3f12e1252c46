import type { Database } from '../../db/client.js';
import { failBookings, lockExpiredHolds } from './repo.js';
import { releaseHeldSeats } from './seats.js';

/**
 * Background task: pending bookings whose hold ran out become FAILED (their unpaid payment FAILED) and
 * give their seats back; a pending booking whose payment is PAID waits for an admin's review instead. Safe to run on several instances at once (locked rows are skipped). Returns how
 * many bookings expired.
 */
export async function expireStaleHolds(db: Database, now: Date, batch = 200): Promise<number> {
  let expired = 0;
  for (;;) {
    const ids = await db.transaction(async (tx) => {
      const locked = await lockExpiredHolds(tx, now, batch);
      await releaseHeldSeats(tx, locked);
      await failBookings(tx, locked);
      return locked;
    });
    expired += ids.length;
    if (ids.length < batch) return expired;
  }
}
