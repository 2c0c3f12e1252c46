import type { Tx } from '../../db/client.js';
import { rateLimited } from '../../lib/errors.js';
import * as repo from './repo.js';

/** How much one account may hold unpaid at a time, so no one can hold a whole catalogue for free. */
export interface HoldLimits {
  maxActiveHolds: number;
  maxHeldSeats: number;
  /** Minutes after an unpaid hold on a departure ended before the account may hold seats there again. */
  reholdCooldownMinutes: number;
}

/**
 * Refuses (429) a new hold of `guestCount` seats that would take the user past their limits. Runs inside the
 * transaction that then holds the seats, and locks the user's row first, so one user's parallel bookings
 * take turns and each counts the holds the others committed.
 */
export async function assertHoldAllowance(
  tx: Tx,
  request: { userId: string; departureId: string; guestCount: number; now: Date },
  limits: HoldLimits,
  holdMinutes: number,
): Promise<void> {
  const { userId, guestCount, now } = request;
  await repo.lockCustomer(tx, userId);
  await assertCooledDown(tx, request, limits.reholdCooldownMinutes);
  const held = await repo.countActiveHolds(tx, userId, now);
  // Waiting helps once the user's first hold runs out; with nothing held, only fewer guests help.
  const retryAfter = held.nextExpiry ? (held.nextExpiry.getTime() - now.getTime()) / 1000 : holdMinutes * 60;

  if (held.holds >= limits.maxActiveHolds) {
    throw rateLimited(
      retryAfter,
      `You already have ${held.holds} unpaid bookings holding seats, the most one account may have at a time. ` +
        'Pay for or cancel one of them, or wait until its hold expires, before booking again.',
    );
  }
  if (held.seats + guestCount > limits.maxHeldSeats) {
    throw rateLimited(
      retryAfter,
      held.seats === 0
        ? `One account may hold at most ${limits.maxHeldSeats} seats at a time; book for fewer guests.`
        : `Your unpaid bookings already hold ${held.seats} seats, and ${guestCount} more would pass the ` +
            `${limits.maxHeldSeats} one account may hold at a time. Pay for or cancel a booking, or book for fewer guests.`,
    );
  }
}

/**
 * Refuses (429) a hold on a departure where the account's own unpaid hold ended (cancelled, also on the
 * gateway's page, or expired; not a payment the gateway declined) less than `cooldownMinutes` ago: cancelling
 * and booking again cannot renew a hold for ever, and the seats it let go stay with those waiting or with
 * anyone else for a while.
 */
async function assertCooledDown(
  tx: Tx,
  request: { userId: string; departureId: string; now: Date },
  cooldownMinutes: number,
): Promise<void> {
  if (cooldownMinutes === 0) return;
  const since = new Date(request.now.getTime() - cooldownMinutes * 60_000);
  const endedAt = await repo.lastEndedHold(tx, request, since, request.now);
  if (!endedAt) return;
  const retryAfter = (endedAt.getTime() + cooldownMinutes * 60_000 - request.now.getTime()) / 1000;
  throw rateLimited(
    retryAfter,
    `You let go of seats on this departure a moment ago; you may hold seats on it again ${cooldownMinutes} ` +
      'minutes after that. Until then its free seats go first to travellers on its waitlist, or to others.',
  );
}
