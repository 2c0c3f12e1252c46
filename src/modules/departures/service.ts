import { asc, eq, gt, gte, lte } from 'drizzle-orm';
import type { Database, Executor, Tx } from '../../db/client.js';
import { type BookingStatus, departures } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { conflict, notFound, validationError } from '../../lib/errors.js';
import { listMeta, parseListQuery } from '../../lib/list-query.js';
import { toMajor, toMinor } from '../../lib/money.js';
import type { BookingCancellation, EndedBooking } from '../bookings/cancellation.js';
import { SEAT_COUNTING_STATUSES } from '../bookings/state.js';
import { closeWaitlist } from '../waitlists/hooks.js';
import {
  assertCapacity,
  assertGuide,
  changeDeparture,
  isUniqueStartViolation,
  sameStartConflict,
} from './changes.js';
import * as repo from './repo.js';
import {
  type CreateDeparturesInput,
  type DepartureDto,
  type DepartureListQuery,
  MAX_DEPARTURE_CAPACITY,
  type NewDepartureInput,
  type UpdateDepartureInput,
} from './schemas.js';

export type { DepartureRow } from './repo.js';

export function toDepartureDto({ departure: d, tourCostFromMinor }: repo.DepartureView): DepartureDto {
  const priceMinor = d.priceMinor ?? tourCostFromMinor;
  return {
    _id: d.id,
    tour: d.tourId,
    startDate: d.startDate.toISOString(),
    endDate: d.endDate.toISOString(),
    capacity: d.capacity,
    bookedSeats: d.seatsBooked,
    availableSeats: d.capacity === null ? null : Math.max(0, d.capacity - d.seatsBooked),
    price: priceMinor === null ? null : toMajor(priceMinor),
    currency: d.currency,
    status: d.status,
    guide: d.guideId,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/* ---- For other modules: each runs in the caller's transaction ---- */

/** Locks a departure until the transaction ends (seat holds, changes and cancellation of it wait). */
export const lockDeparture = (tx: Executor, departureId: string) => repo.lockDepartureRow(tx, departureId);

/**
 * Marks a locked departure CANCELLED with its reason; no new booking can hold seats on it from then on.
 * Idempotent: an already cancelled departure keeps its first reason. The bookings are the caller's to end.
 */
export async function markDepartureCancelled(
  tx: Executor,
  departure: repo.DepartureRow,
  reason: string,
): Promise<repo.DepartureRow> {
  if (departure.status === 'CANCELLED') return departure;
  return (await repo.setDepartureStatusRow(tx, departure.id, 'CANCELLED', reason))!;
}

/** A departure's bookings (optionally only those in `statuses`), oldest first, with their customer's name and email. */
export const departureBookings = (db: Executor, departureId: string, statuses?: readonly BookingStatus[]) =>
  repo.selectDepartureBookings(db, departureId, statuses);

/** The tour's next bookable departure (soonest SCHEDULED one not started at `now`). */
export const nextBookableDeparture = (db: Executor, tourId: string, now: Date) =>
  repo.findNextBookableDeparture(db, tourId, now);

export const findDeparture = (db: Executor, departureId: string) => repo.findDepartureRow(db, departureId);

/**
 * A new tour's first departure from the dates it was created with (legacy `POST /tour/create`), with the
 * tour's maxGuest as capacity (null keeps the legacy meaning: unlimited).
 */
export async function scheduleFirstDeparture(
  tx: Tx,
  tour: { id: string; maxGuest: number | null; currency: string },
  dates: { startDate: Date; endDate: Date },
): Promise<repo.DepartureRow> {
  const [row] = await repo.insertDepartureRows(tx, [
    { tourId: tour.id, ...dates, capacity: tour.maxGuest, currency: tour.currency },
  ]);
  return row!;
}

/**
 * A legacy `PATCH /tour/:id` with startDate, endDate or maxGuest: the tour's next bookable departure takes
 * them, under the same rules and with the same mails as PATCH /departures/:id (maxGuest is its capacity).
 * Without a bookable departure, new dates schedule a new departure as POST /tour/:tourId/departures does (a
 * past tour given future dates runs again), and maxGuest stays the default for new departures.
 */
export async function applyLegacySchedule(
  tx: Tx,
  tour: { id: string; currency: string; maxGuest: number | null },
  changes: { startDate?: Date; endDate?: Date; maxGuest?: number | null },
  now: Date,
): Promise<void> {
  const { startDate, endDate, maxGuest } = changes;
  if (startDate === undefined && endDate === undefined && maxGuest === undefined) return;
  const next = await repo.findNextBookableDeparture(tx, tour.id, now, true);
  if (next) {
    await changeDeparture(tx, next, { startDate, endDate, capacity: maxGuest }, now, 'maxGuest');
    return;
  }
  if (startDate === undefined && endDate === undefined) return;
  if (startDate === undefined)
    throw validationError('startDate', 'startDate is required to schedule this tour again');
  const end = endDate ?? startDate;
  if (end < startDate) throw validationError('endDate', 'endDate must not be before startDate');
  if (startDate <= now) throw validationError('startDate', 'startDate must be in the future');
  const capacity = maxGuest === undefined ? tour.maxGuest : maxGuest;
  assertCapacity(capacity, 'maxGuest');
  try {
    await tx.transaction((sp) =>
      repo.insertDepartureRows(sp, [
        { tourId: tour.id, startDate, endDate: end, capacity, currency: tour.currency },
      ]),
    );
  } catch (err) {
    if (isUniqueStartViolation(err)) throw sameStartConflict();
    throw err;
  }
}

/* ---- The departures routes ---- */

export interface DepartureServiceDeps {
  db: Database;
  clock: Clock;
  /** Tells a guide newly assigned to a departure (in the transaction that assigns them). */
  onGuideAssigned: (tx: Executor, departure: repo.DepartureRow) => Promise<void>;
  /** Cancels each booking of a cancelled departure, with its full refund (the bookings module). */
  cancellation: BookingCancellation;
}

/** Bookings a departure cancellation ends: held unpaid, paid, or paid and awaiting review. */
const LIVE_BOOKINGS = SEAT_COUNTING_STATUSES;

const isoDay = (d: Date) => d.toISOString();

export function createDepartureService({ db, clock, onGuideAssigned, cancellation }: DepartureServiceDeps) {
  /** The departures `ids`, in that order (a batch answers in the order it was sent). */
  async function views(ids: string[]) {
    const byId = new Map((await repo.findDepartureViews(db, ids)).map((v) => [v.departure.id, v]));
    return ids.map((id) => toDepartureDto(byId.get(id)!));
  }

  async function get(id: string): Promise<DepartureDto> {
    const view = await repo.findDepartureView(db, id);
    if (!view) throw notFound('Departure not found');
    return toDepartureDto(view);
  }

  return {
    /** The tour's departures: by default the upcoming SCHEDULED ones, soonest first. */
    async list(tourId: string, query: DepartureListQuery) {
      const tour = await repo.findTourForDepartures(db, tourId);
      if (!tour) throw notFound('Tour not found');
      const parsed = parseListQuery({ page: query.page, limit: query.limit }, repo.departureListSpec, [
        eq(departures.tourId, tourId),
        eq(departures.status, query.status ?? 'SCHEDULED'),
        query.from ? gte(departures.startDate, query.from) : gt(departures.startDate, clock.now()),
        query.to ? lte(departures.startDate, query.to) : undefined,
      ]);
      const orderBy = [asc(departures.startDate), asc(departures.id)];
      const [rows, total] = await Promise.all([
        repo.selectDepartures(db, { ...parsed, orderBy }),
        repo.countDepartures(db, parsed.where),
      ]);
      return { items: rows.map(toDepartureDto), meta: listMeta(parsed, total) };
    },

    get,

    /** Creates one or several departures of a tour in one transaction; all or none. */
    async create(tourId: string, input: CreateDeparturesInput): Promise<DepartureDto[]> {
      const batch = input.departures !== undefined;
      // The schema has checked that a single departure has both dates.
      const items = input.departures ?? [input as NewDepartureInput];
      const at = (i: number, field: string) => (batch ? `departures.${i}.${field}` : field);
      const now = clock.now();
      const starts = new Set<number>();
      items.forEach((item, i) => {
        if (item.startDate <= now)
          throw validationError(at(i, 'startDate'), 'startDate must be in the future');
        if (starts.has(item.startDate.getTime())) {
          throw conflict(`Two departures in this request start at ${isoDay(item.startDate)}`);
        }
        starts.add(item.startDate.getTime());
      });
      let ids: string[];
      try {
        ids = await db.transaction(async (tx) => {
          const tour = await repo.findTourForDepartures(tx, tourId, true);
          if (!tour) throw notFound('Tour not found');
          const rows: repo.NewDepartureRow[] = [];
          for (const [i, item] of items.entries()) {
            const capacity = item.capacity ?? tour.maxGuest;
            if (capacity === null || capacity < 1 || capacity > MAX_DEPARTURE_CAPACITY) {
              throw validationError(
                at(i, 'capacity'),
                `capacity is required (1..${MAX_DEPARTURE_CAPACITY}): the tour's maxGuest cannot serve as its default`,
              );
            }
            await assertGuide(tx, item.guide, at(i, 'guide'));
            rows.push({
              tourId,
              startDate: item.startDate,
              endDate: item.endDate,
              capacity,
              priceMinor: item.price === undefined || item.price === null ? null : toMinor(item.price),
              currency: tour.currency,
              guideId: item.guide ?? null,
            });
          }
          const inserted = await repo.insertDepartureRows(tx, rows);
          for (const row of inserted) if (row.guideId) await onGuideAssigned(tx, row);
          // In the order sent: starts are unique within a tour, so each input finds its own row.
          const byStart = new Map(inserted.map((r) => [r.startDate.getTime(), r.id]));
          return rows.map((r) => byStart.get(r.startDate.getTime())!);
        });
      } catch (err) {
        if (isUniqueStartViolation(err)) throw sameStartConflict();
        throw err;
      }
      return views(ids);
    },

    /**
     * Changes a departure. Capacity never goes below the seats booked (409); a changed price applies to new
     * bookings only; customers with paid bookings are mailed when the dates or the price change.
     */
    async update(id: string, input: UpdateDepartureInput): Promise<DepartureDto> {
      const now = clock.now();
      await db.transaction(async (tx) => {
        const current = await repo.lockDepartureRow(tx, id);
        if (!current) throw notFound('Departure not found');
        const { price, ...rest } = input;
        const priceMinor = price === undefined ? undefined : price === null ? null : toMinor(price);
        const updated = await changeDeparture(tx, current, { ...rest, priceMinor }, now);
        // Only the guide taking the departure over is told; one taken off it is not mailed.
        if (input.guide && input.guide !== current.guideId) await onGuideAssigned(tx, updated);
      });
      return get(id);
    },

    /**
     * POST /departures/:id/cancel: in one transaction the departure becomes CANCELLED, every pending booking is
     * cancelled and every paid one cancelled and refunded in full (each customer mailed), and its waitlist is
     * closed. A departure already cancelled is answered as it is, with nothing changed.
     */
    async cancel(adminId: string, id: string, reason: string): Promise<DepartureDto> {
      const customerReason = `the operator cancelled this departure: ${reason}`;
      const ended = await db.transaction(async (tx) => {
        // Bookings first, then the departure: the lock order of payments and the hold sweeper too.
        await repo.lockDepartureBookings(tx, id, LIVE_BOOKINGS);
        const departure = await repo.lockDepartureRow(tx, id);
        if (!departure) throw notFound('Departure not found');
        if (departure.status === 'CANCELLED') return [];
        await markDepartureCancelled(tx, departure, reason);
        // The waitlist first, so the seats the bookings free below queue no offers.
        const tour = await repo.findTourForDepartures(tx, departure.tourId);
        await closeWaitlist(
          tx,
          { id, tourTitle: tour?.title ?? 'your tour', startDate: departure.startDate },
          customerReason,
        );
        // Read again under the departure's lock: a booking committed meanwhile is ended too, and none can
        // hold seats on it from now on.
        const live = await repo.selectDepartureBookings(tx, id, LIVE_BOOKINGS);
        const results: EndedBooking[] = [];
        for (const booking of live) {
          results.push(
            await cancellation.cancelBooking(tx, booking.id, {
              by: { userId: adminId, admin: true },
              reason: customerReason,
              refund: 'full',
            }),
          );
        }
        return results;
      });
      for (const result of ended) cancellation.announce(result);
      return get(id);
    },
  };
}

export type DepartureService = ReturnType<typeof createDepartureService>;
