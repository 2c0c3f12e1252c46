import type { CancellationPolicy } from '../../db/schema/index.js';

const HOUR_MS = 60 * 60 * 1000;

/**
 * The percentage of the amount paid that a cancellation at `now` gives back: the tier with the largest
 * `hoursBefore` that is still at least as far from the start as now is; nothing when no tier is. A trip
 * without a start date is as far away as it gets.
 */
export function refundPercentAt(policy: CancellationPolicy, startsAt: Date | null, now: Date): number {
  const hoursLeft = startsAt ? (startsAt.getTime() - now.getTime()) / HOUR_MS : Number.POSITIVE_INFINITY;
  let best: { hoursBefore: number; refundPercent: number } | undefined;
  for (const tier of policy) {
    if (hoursLeft >= tier.hoursBefore && (!best || tier.hoursBefore > best.hoursBefore)) best = tier;
  }
  return best?.refundPercent ?? 0;
}

/** What a cancellation at `now` refunds of `paidMinor`, in minor units, rounded down to the poisha. */
export function refundDueAt(
  policy: CancellationPolicy,
  paidMinor: number,
  startsAt: Date | null,
  now: Date,
): number {
  // Percent in hundredths, so 12.5% of 999 is computed on integers.
  const hundredths = Math.round(refundPercentAt(policy, startsAt, now) * 100);
  return Math.floor((paidMinor * hundredths) / 10_000);
}

/** Whether the trip has begun: from then on only an admin may cancel. */
export const hasStarted = (startsAt: Date | null, now: Date) => startsAt !== null && startsAt <= now;
