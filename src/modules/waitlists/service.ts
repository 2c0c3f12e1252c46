import { desc, eq, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { waitlistEntries } from '../../db/schema/index.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, conflict, notFound, validationError } from '../../lib/errors.js';
import { enqueueJob, type JobRow } from '../../lib/job-queue.js';
import { listMeta, parseListQuery } from '../../lib/list-query.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { toMajor } from '../../lib/money.js';
import type { BookingCancellation, EndedBooking } from '../bookings/cancellation.js';
import type { HoldLimits } from '../bookings/hold-limits.js';
import type { BookingService } from '../bookings/service.js';
import { findDeparture, lockDeparture } from '../departures/service.js';
import { waitlistOfferEmail } from './emails.js';
import * as repo from './repo.js';
import type { JoinWaitlistInput, WaitlistEntryDto, WaitlistListQuery } from './schemas.js';

export { WAITLIST_OFFER_JOB } from './hooks.js';

/** After an offer is made: its payment session is opened and the traveller mailed the link (once). */
export const WAITLIST_OFFER_MAIL_JOB = 'waitlist.offer-mail';

export interface WaitlistServiceDeps {
  db: Database;
  clock: Clock;
  /** Offers are bookings made as POST /booking makes them, and paid through the same payment link. */
  bookings: Pick<BookingService, 'placeOffer' | 'openPaymentLink'>;
  /** Leaving with an offer cancels the offer's booking. */
  cancellation: BookingCancellation;
  offerHours: number;
  /**
   * An account waits as it holds (MAX_ACTIVE_HOLDS_PER_USER lists, MAX_HELD_SEATS_PER_USER seats in all), so
   * no one can queue for a whole catalogue.
   */
  limits: HoldLimits;
}

const isAdmin = (who: AuthContext) => who.role === 'ADMIN' || who.role === 'SUPER_ADMIN';

const iso = (d: Date) => d.toISOString();

export function toEntryDto(e: repo.WaitlistEntryView): WaitlistEntryDto {
  return {
    _id: e.id,
    departure: e.departureId,
    user: e.userId,
    guestCount: e.guestCount,
    status: e.status,
    position: e.position,
    booking: e.bookingId,
    offeredAt: e.offeredAt ? iso(e.offeredAt) : null,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

const LIST_SPEC = {
  searchable: [],
  filters: {},
  sortable: { createdAt: waitlistEntries.createdAt },
  tieBreaker: waitlistEntries.id,
  projectable: [],
};

/** Why a departure takes no one on its waitlist at `now`, or undefined when it does. */
function notOpenReason(departure: { status: string; startDate: Date }, now: Date): string | undefined {
  if (departure.status === 'CANCELLED') return 'This departure is cancelled';
  if (departure.status === 'CLOSED') return 'This departure is closed for booking';
  if (departure.startDate <= now) return 'This departure has already started';
  return undefined;
}

export function createWaitlistService(deps: WaitlistServiceDeps) {
  const { db, clock, bookings, cancellation } = deps;

  async function view(id: string): Promise<WaitlistEntryDto> {
    const entry = await repo.findEntryView(db, id);
    if (!entry) throw notFound('Waitlist entry not found');
    return toEntryDto(entry);
  }

  async function list(base: SQL[], query: WaitlistListQuery, orderBy = repo.joinOrder) {
    const parsed = parseListQuery({ page: query.page, limit: query.limit }, LIST_SPEC, [
      ...base,
      query.status ? eq(waitlistEntries.status, query.status) : undefined,
    ]);
    const [rows, total] = await Promise.all([
      repo.selectEntries(db, { ...parsed, orderBy }),
      repo.countEntries(db, parsed.where),
    ]);
    return { items: rows.map(toEntryDto), meta: listMeta(parsed, total) };
  }

  /**
   * In the caller's transaction, which locks each departure: each WAITING entry that fits the free seats, in
   * join order, gets an offer (a pending booking holding its seats for WAITLIST_OFFER_HOURS); one that does not
   * fit is skipped, not blocking smaller ones behind it; one whose account is blocked or deleted ends
   * (EXPIRED). The lock and the conditional seat hold make a second run, in this transaction or another, find
   * the seats taken: one offer per freed seat.
   */
  async function offerFreeSeats(tx: Executor, departureIds: readonly string[]): Promise<void> {
    const now = clock.now();
    const holdExpiresAt = new Date(now.getTime() + deps.offerHours * 3600_000);
    for (const departureId of [...new Set(departureIds)]) {
      const departure = await lockDeparture(tx, departureId);
      if (!departure || notOpenReason(departure, now)) continue;
      let free =
        departure.capacity === null ? Number.POSITIVE_INFINITY : departure.capacity - departure.seatsBooked;
      for (const { entry, accountOpen } of await repo.lockWaitingEntries(tx, departureId)) {
        if (free <= 0) break;
        if (!accountOpen) {
          await repo.setEntryStatus(tx, entry.id, 'EXPIRED');
          continue;
        }
        if (entry.guestCount > free) continue;
        const bookingId = await bookings.placeOffer(tx, {
          userId: entry.userId,
          departure,
          guestCount: entry.guestCount,
          holdExpiresAt,
        });
        // No price on the departure or its tour: nothing can be sold, so nothing is offered.
        if (!bookingId) break;
        await repo.setEntryStatus(tx, entry.id, 'OFFERED', { bookingId, offeredAt: now });
        await enqueueJob(tx, {
          kind: WAITLIST_OFFER_MAIL_JOB,
          key: `${WAITLIST_OFFER_MAIL_JOB}:${bookingId}`,
          payload: { bookingId },
          runAt: now,
        });
        free -= entry.guestCount;
      }
    }
  }

  return {
    /**
     * Joins a departure's waitlist. Only when it cannot take the guests now (409: book instead), once per
     * traveller and departure (409), and not on a closed, cancelled or started departure (409). An account
     * waits as it may hold: for at most MAX_HELD_SEATS_PER_USER seats (400 for one entry asking more, 409 for
     * entries adding up to more) on at most MAX_ACTIVE_HOLDS_PER_USER lists at a time (409). The departure row
     * is locked, so a join and a transaction freeing seats never miss each other.
     */
    async join(who: AuthContext, departureId: string, input: JoinWaitlistInput): Promise<WaitlistEntryDto> {
      const profile = await repo.findProfile(db, who.userId);
      const missing = (['phone', 'address'] as const).filter((f) => !profile?.[f]?.trim());
      if (missing.length > 0) {
        throw new AppError(
          400,
          'VALIDATION_ERROR',
          'Please Add Phone Number and Address In Your Profile For Booking!',
          missing.map((path) => ({
            path,
            message: `${path} is required in your profile to join a waitlist`,
          })),
        );
      }
      const { maxActiveHolds, maxHeldSeats } = deps.limits;
      if (input.guestCount > maxHeldSeats) {
        throw validationError(
          'guestCount',
          `guestCount must be at most ${maxHeldSeats}: one account may wait for at most ${maxHeldSeats} seats`,
        );
      }
      const known = await findDeparture(db, departureId);
      if (!known) throw notFound('Departure not found');
      if (known.capacity !== null && input.guestCount > known.capacity) {
        throw conflict(
          `This departure has ${known.capacity} seats in all, fewer than ${input.guestCount} guests`,
        );
      }
      const entry = await db.transaction(async (tx) => {
        // The account first, then the departure (the order of a booking's hold): one account's joins take
        // turns, and each counts the entries the others committed.
        await repo.lockTraveller(tx, who.userId);
        const departure = (await lockDeparture(tx, departureId))!;
        const closed = notOpenReason(departure, clock.now());
        if (closed) throw conflict(closed);
        const available =
          departure.capacity === null ? Number.POSITIVE_INFINITY : departure.capacity - departure.seatsBooked;
        if (available >= input.guestCount) {
          throw conflict(
            `This departure has ${Number.isFinite(available) ? available : 'enough'} seats available now: book instead`,
          );
        }
        if (await repo.findLiveEntry(tx, departureId, who.userId)) {
          throw conflict('You are already on the waitlist of this departure');
        }
        const live = await repo.countLiveEntries(tx, who.userId);
        if (live.entries >= maxActiveHolds) {
          throw conflict(
            `You are already on ${live.entries} waitlists, the most one account may be at a time. ` +
              'Leave one of them before joining another.',
          );
        }
        if (live.seats + input.guestCount > maxHeldSeats) {
          throw conflict(
            `Your waitlist places already ask for ${live.seats} seats, and ${input.guestCount} more would pass ` +
              `the ${maxHeldSeats} one account may wait for at a time. Leave a waitlist, or ask for fewer guests.`,
          );
        }
        return repo.insertEntry(tx, { departureId, userId: who.userId, guestCount: input.guestCount });
      });
      return view(entry.id);
    },

    /** The caller's entries, newest first, with their status and position. */
    mine: (who: AuthContext, query: WaitlistListQuery) =>
      list([eq(waitlistEntries.userId, who.userId)], query, [
        desc(waitlistEntries.createdAt),
        desc(waitlistEntries.id),
      ]),

    /** A departure's entries in join order (admins). */
    async ofDeparture(departureId: string, query: WaitlistListQuery) {
      if (!(await findDeparture(db, departureId))) throw notFound('Departure not found');
      return list([eq(waitlistEntries.departureId, departureId)], query);
    },

    /**
     * Leaves the waitlist (the owner or an admin; others 404). An entry with an offer also cancels the offer's
     * pending booking, whose seats go to the next traveller. Leaving twice answers the entry as it is.
     */
    async leave(who: AuthContext, entryId: string): Promise<WaitlistEntryDto> {
      const admin = isAdmin(who);
      const ended = await db.transaction(async (tx) => {
        const entry = await repo.lockEntry(tx, entryId);
        if (!entry || (!admin && entry.userId !== who.userId)) throw notFound('Waitlist entry not found');
        if (entry.status === 'LEFT') return undefined;
        if (entry.status !== 'WAITING' && entry.status !== 'OFFERED') {
          throw conflict(`This waitlist entry is already ${entry.status}`);
        }
        let offer: EndedBooking | undefined;
        if (entry.status === 'OFFERED' && entry.bookingId) {
          offer = await cancellation.cancelBooking(tx, entry.bookingId, {
            by: { userId: who.userId, admin },
            reason: 'the traveller left the waitlist',
            refund: 'policy',
          });
        }
        await repo.setEntryStatus(tx, entry.id, 'LEFT');
        return offer;
      });
      if (ended) cancellation.announce(ended);
      return view(entryId);
    },

    offerFreeSeats,

    /** The `waitlist.offer` job (seats added or reopened, or freed where no hand-off was given). */
    async makeOffers(job: JobRow<{ departureId: string }>): Promise<void> {
      await db.transaction((tx) => offerFreeSeats(tx, [job.payload.departureId]));
    },

    /**
     * An account was just blocked or deleted, in the caller's transaction: its open offers are cancelled
     * (their seats go to the next in line) and its waiting entries end (EXPIRED).
     */
    async endWaitsOfAccount(tx: Executor, userId: string, actorId: string): Promise<void> {
      for (const bookingId of await repo.openOfferBookingsOf(tx, userId)) {
        // Unpaid offers: no refund is due, so there is nothing to announce after commit.
        await cancellation.cancelBooking(tx, bookingId, {
          by: { userId: actorId, admin: true },
          reason: 'the account can no longer book',
          refund: 'policy',
        });
      }
      await repo.expireWaitingEntriesOf(tx, userId);
    },

    /**
     * The `waitlist.offer-mail` job: opens the offer's payment session (a gateway call, outside any
     * transaction) and mails the link. Idempotent: the mail is keyed by the booking, and an offer no longer
     * pending (paid, cancelled, expired) is not mailed.
     */
    async mailOffer(job: JobRow<{ bookingId: string }>): Promise<void> {
      const link = await bookings.openPaymentLink(job.payload.bookingId);
      if (!link) return;
      const { booking, paymentUrl } = link;
      const amount = toMajor(booking.amountMinor).toLocaleString('en-US', {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
      await enqueueEmail(
        db,
        waitlistOfferEmail({
          bookingId: booking.id,
          name: booking.userName,
          email: booking.userEmail,
          tourTitle: booking.tourTitle,
          startDate: booking.tourStartDate ?? booking.holdExpiresAt,
          guestCount: booking.guestCount,
          amount: `${booking.currency} ${amount}`,
          expiresAt: booking.holdExpiresAt,
          paymentUrl,
        }),
      );
    },
  };
}

export type WaitlistService = ReturnType<typeof createWaitlistService>;
