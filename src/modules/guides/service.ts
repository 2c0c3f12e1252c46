import type { Database, Executor } from '../../db/client.js';
import type { AuthContext } from '../../lib/caller.js';
import type { Clock } from '../../lib/clock.js';
import { conflict, forbidden, notFound } from '../../lib/errors.js';
import { listMeta, parseListQuery } from '../../lib/list-query.js';
import { enqueueEmail } from '../../lib/mail/outbox.js';
import { departureListSpec } from '../departures/repo.js';
import { guideAssignedEmail } from './guide-emails.js';
import * as repo from './repo.js';
import type {
  CheckInDto,
  GuideDepartureDto,
  GuideDepartureListQuery,
  ManifestDto,
  ManifestEntry,
} from './schemas.js';

/** Check-in opens this long before a departure starts (and closes when it ends). */
export const CHECK_IN_OPENS_BEFORE_START_MS = 24 * 3600_000;

const tourRef = (d: repo.GuideDepartureRow) => ({ _id: d.tourId, title: d.tourTitle, slug: d.tourSlug });

function toManifestEntry(row: repo.ManifestRow): ManifestEntry {
  return {
    _id: row.id,
    name: row.name,
    phone: row.phone,
    email: row.email,
    guests: row.guests,
    checkedInAt: row.checkedInAt?.toISOString() ?? null,
    checkedInBy:
      row.checkedInById && row.checkedInByName !== null
        ? { _id: row.checkedInById, name: row.checkedInByName }
        : null,
  };
}

/** Admins see every departure; a guide only the ones they are assigned to (another's → 403). */
function assertMayLead(caller: AuthContext, guideId: string | null, what: string) {
  if (caller.role === 'GUIDE' && guideId !== caller.userId) {
    throw forbidden(`Only the departure's assigned guide or an admin may ${what}`);
  }
}

/**
 * Mails the guide just assigned to a departure (in the caller's transaction, so the mail goes only if the
 * assignment is kept). The departures service calls it; a guide taken off a departure is not mailed.
 */
export async function mailAssignedGuide(
  tx: Executor,
  departure: { id: string; guideId: string | null; updatedAt: Date },
): Promise<void> {
  if (!departure.guideId) return;
  // One after another: a transaction is one connection.
  const guide = await repo.findContact(tx, departure.guideId);
  const view = await repo.findDepartureWithTour(tx, departure.id);
  if (!guide || !view) return;
  const manifest = await repo.selectManifest(tx, departure.id);
  await enqueueEmail(
    tx,
    guideAssignedEmail({
      guide,
      departure: view,
      tourTitle: view.tourTitle,
      paidGuests: manifest.reduce((sum, b) => sum + b.guests, 0),
      version: departure.updatedAt.getTime(),
    }),
  );
}

export interface GuideServiceDeps {
  db: Database;
  clock: Clock;
}

export function createGuideService({ db, clock }: GuideServiceDeps) {
  return {
    /** The caller's departures: those not yet ended first (soonest first), then the past ones (latest first). */
    async myDepartures(caller: AuthContext, query: GuideDepartureListQuery) {
      const parsed = parseListQuery({ page: query.page, limit: query.limit }, departureListSpec);
      const [rows, total] = await Promise.all([
        repo.selectGuideDepartures(db, caller.userId, clock.now(), parsed),
        repo.countGuideDepartures(db, caller.userId),
      ]);
      const items: GuideDepartureDto[] = rows.map((d) => ({
        _id: d.id,
        tour: tourRef(d),
        startDate: d.startDate.toISOString(),
        endDate: d.endDate.toISOString(),
        status: d.status,
        capacity: d.capacity,
        bookedSeats: d.seatsBooked,
        paidBookings: d.paidBookings,
        paidGuests: d.paidGuests,
        checkedInBookings: d.checkedInBookings,
        checkedInGuests: d.checkedInGuests,
      }));
      return { items, meta: listMeta(parsed, total) };
    },

    /** Who is coming on a departure: its paid bookings with their travellers and check-in state. */
    async manifest(caller: AuthContext, departureId: string): Promise<ManifestDto> {
      const departure = await repo.findDepartureWithTour(db, departureId);
      if (!departure) throw notFound('Departure not found');
      assertMayLead(caller, departure.guideId, 'see its manifest');
      const entries = (await repo.selectManifest(db, departureId)).map(toManifestEntry);
      const checkedIn = entries.filter((e) => e.checkedInAt !== null);
      const guests = (list: ManifestEntry[]) => list.reduce((sum, e) => sum + e.guests, 0);
      return {
        departure: {
          _id: departure.id,
          tour: tourRef(departure),
          startDate: departure.startDate.toISOString(),
          endDate: departure.endDate.toISOString(),
          status: departure.status,
          guide: departure.guideId,
        },
        bookings: entries,
        totals: {
          bookings: entries.length,
          guests: guests(entries),
          checkedInBookings: checkedIn.length,
          checkedInGuests: guests(checkedIn),
        },
      };
    },

    /**
     * Checks in a paid booking, from 24 hours before its departure starts until it ends. Once only: checking in
     * again answers the first check-in and changes nothing.
     */
    async checkIn(caller: AuthContext, bookingId: string): Promise<{ entry: CheckInDto; first: boolean }> {
      const now = clock.now();
      const { departureId, first } = await db.transaction(async (tx) => {
        const booking = await repo.lockBookingForCheckIn(tx, bookingId);
        if (!booking) throw notFound('Booking not found');
        assertMayLead(caller, booking.guideId, 'check in its travellers');
        if (booking.status !== 'COMPLETE') {
          throw conflict(`Only a paid booking can be checked in; this one is ${booking.status}`);
        }
        if (booking.checkedInAt) return { departureId: booking.departureId, first: false };
        const opens = new Date(booking.startDate.getTime() - CHECK_IN_OPENS_BEFORE_START_MS);
        if (now < opens || now > booking.endDate) {
          throw conflict(
            `Check-in is open from 24 hours before the departure starts until it ends: ` +
              `${opens.toISOString()} to ${booking.endDate.toISOString()}`,
          );
        }
        await repo.markCheckedIn(tx, bookingId, caller.userId, now);
        return { departureId: booking.departureId, first: true };
      });
      const row = await repo.findManifestRow(db, bookingId);
      return { entry: { ...toManifestEntry(row!), departure: departureId }, first };
    },
  };
}

export type GuideService = ReturnType<typeof createGuideService>;
