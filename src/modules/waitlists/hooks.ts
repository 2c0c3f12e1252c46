import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { jobs, users, waitlistEntries } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { waitlistClosedEmail } from './emails.js';

/**
 * What other modules tell the waitlists, inside their own transactions: seats came free, an offer was paid, a
 * departure was cancelled. Nothing here depends on another module, so bookings and departures may call it.
 */

/** The job that makes offers on a departure whose seats came free (the waitlists service handles it). */
export const WAITLIST_OFFER_JOB = 'waitlist.offer';

/**
 * Seats came free on these departures: queues a `waitlist.offer` job for each one with someone waiting.
 * A traveller joining meanwhile cannot be missed: joining locks the departure row, which the freeing
 * transaction has updated, so the join waits for it and then sees the seats (409: book instead).
 */
export async function queueOffers(tx: Executor, departureIds: readonly string[]): Promise<void> {
  const waiting = await withWaiting(tx, departureIds);
  if (waiting.length === 0) return;
  await tx.insert(jobs).values(
    waiting.map((departureId) => ({
      kind: WAITLIST_OFFER_JOB,
      // A job per freeing: the handler's departure lock makes a second run for the same seats a no-op.
      key: `${WAITLIST_OFFER_JOB}:${departureId}:${newId()}`,
      payload: { departureId },
    })),
  );
}

/**
 * Offers the free seats of these departures to those waiting on them, in the caller's transaction (the one
 * that freed the seats, so nobody else can take them first). The waitlists service provides it; a module
 * that frees seats is handed it where it is built.
 */
export type WaitlistHandOff = (tx: Executor, departureIds: readonly string[]) => Promise<void>;

/** The departures among these that have someone waiting. */
async function withWaiting(tx: Executor, departureIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(departureIds)];
  if (unique.length === 0) return [];
  const rows = await tx
    .selectDistinct({ departureId: waitlistEntries.departureId })
    .from(waitlistEntries)
    .where(and(inArray(waitlistEntries.departureId, unique), eq(waitlistEntries.status, 'WAITING')));
  return rows.map((r) => r.departureId);
}

/**
 * These bookings just gave their seats back (cancelled, failed, expired): the offers among them are over, so
 * their entries are EXPIRED, and the seats go to whoever waits on those departures: with `handOff`, as offers
 * in this same transaction; without, through a `waitlist.offer` job.
 */
export async function seatsReleased(
  tx: Executor,
  released: readonly { bookingId: string; departureId: string }[],
  handOff?: WaitlistHandOff,
): Promise<void> {
  if (released.length === 0) return;
  await tx
    .update(waitlistEntries)
    .set({ status: 'EXPIRED', updatedAt: sql`now()` })
    .where(
      and(
        inArray(
          waitlistEntries.bookingId,
          released.map((r) => r.bookingId),
        ),
        eq(waitlistEntries.status, 'OFFERED'),
      ),
    );
  const departureIds = released.map((r) => r.departureId);
  if (!handOff) return queueOffers(tx, departureIds);
  const waiting = await withWaiting(tx, departureIds);
  if (waiting.length > 0) await handOff(tx, waiting);
}

/**
 * The booking was just confirmed: when it was a waitlist offer, its entry is BOOKED (also an offer paid
 * late, after it had expired, whose seats could be held again).
 */
export async function markOfferBooked(tx: Executor, bookingId: string): Promise<void> {
  await tx
    .update(waitlistEntries)
    .set({ status: 'BOOKED', updatedAt: sql`now()` })
    .where(
      and(eq(waitlistEntries.bookingId, bookingId), inArray(waitlistEntries.status, ['OFFERED', 'EXPIRED'])),
    );
}

/**
 * The departure is being cancelled: its live entries become EXPIRED (the traveller did not leave; the wait
 * ended). Each waiting traveller is mailed; an offered one hears about their offer's booking, cancelled with
 * the departure's other bookings.
 */
export async function closeWaitlist(
  tx: Executor,
  departure: { id: string; tourTitle: string; startDate: Date },
  reason: string,
): Promise<void> {
  const waiting = await tx
    .select({ id: waitlistEntries.id, name: users.name, email: users.email })
    .from(waitlistEntries)
    .innerJoin(users, eq(users.id, waitlistEntries.userId))
    .where(and(eq(waitlistEntries.departureId, departure.id), eq(waitlistEntries.status, 'WAITING')));
  await tx
    .update(waitlistEntries)
    .set({ status: 'EXPIRED', updatedAt: sql`now()` })
    .where(
      and(
        eq(waitlistEntries.departureId, departure.id),
        inArray(waitlistEntries.status, ['WAITING', 'OFFERED']),
      ),
    );
  for (const entry of waiting) {
    await enqueueEmail(tx, waitlistClosedEmail({ entryId: entry.id, ...entry, departure, reason }));
  }
}
