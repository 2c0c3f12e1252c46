import { inArray, sql } from 'drizzle-orm';
import { bookings, payments, tours } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import { type BookingRow, mapBooking, mapPayment, type PaymentRow } from './mappers.js';
import type { LegacyDocument } from './readers.js';
import {
  claim,
  type ImportReport,
  key,
  known,
  newRows,
  note,
  type RunState,
  refuse,
  remember,
} from './run.js';

/* Bookings (their seats counted on the tour's departure) and their payments. */

const HOLDS_SEATS = new Set(['PENDING', 'COMPLETE']);

export async function loadBookings(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<BookingRow>(state, 'bookings', docs, mapBooking);
  if (rows.length === 0) return;
  const refs = await known(state.tx, [
    { collection: 'users', ids: rows.map((r) => r.user) },
    { collection: 'tours', ids: rows.map((r) => r.tour) },
    { collection: 'tours.departure', ids: rows.map((r) => r.tour) },
  ]);
  const tourIds = [...new Set(rows.flatMap((r) => refs.get(key('tours', r.tour))?.newId ?? []))];
  const tourRows =
    tourIds.length === 0
      ? []
      : await state.tx
          .select({ id: tours.id, cost: tours.costFromMinor, policy: tours.cancellationPolicy })
          .from(tours)
          .where(inArray(tours.id, tourIds));
  const tourInfo = new Map(tourRows.map((t) => [t.id, t]));
  const holdUntil = new Date(state.now.getTime() + state.holdMinutes * 60_000);
  const values: (typeof bookings.$inferInsert)[] = [];
  const pairs: { legacyId: string; newId: string }[] = [];
  const seats = new Map<string, number>();
  for (const row of rows) {
    const user = refs.get(key('users', row.user));
    const tour = refs.get(key('tours', row.tour));
    const departure = refs.get(key('tours.departure', row.tour));
    const info = tour && tourInfo.get(tour.newId);
    if (!user)
      refuse(state, 'bookings', row.legacyId, `user ${row.user} was not imported (missing or refused)`);
    else if (!tour || !departure || !info) {
      refuse(state, 'bookings', row.legacyId, `tour ${row.tour} was not imported (missing or refused)`);
    } else {
      const id = newId();
      const held = HOLDS_SEATS.has(row.status);
      const unitPrice = info.cost ?? 0;
      values.push({
        id,
        userId: user.newId,
        tourId: tour.newId,
        departureId: departure.newId,
        status: row.status,
        guestCount: row.guestCount,
        // The legacy amount (costFrom × guests); the payment's own amount replaces it when it is loaded.
        unitPriceMinor: unitPrice,
        amountMinor: unitPrice * row.guestCount,
        // A legacy PENDING booking never expired; here it keeps its seats for one hold from the import on.
        holdExpiresAt: row.status === 'PENDING' ? holdUntil : row.createdAt,
        seatsHeld: held,
        cancellationPolicy: row.status === 'COMPLETE' ? info.policy : null,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      });
      pairs.push({ legacyId: row.legacyId, newId: id });
      if (held) seats.set(departure.newId, (seats.get(departure.newId) ?? 0) + row.guestCount);
    }
  }
  if (values.length === 0) return;
  await state.tx.insert(bookings).values(values);
  await remember(state, 'bookings', pairs);
  await addSeats(state, seats);
  state.report.counts.bookings.imported += values.length;
}

/**
 * Counts the seats of imported bookings against their departures. The legacy system never enforced
 * maxGuest, so a departure sold beyond it gets the capacity of what was sold (and the tour is reported).
 */
async function addSeats(state: RunState, seats: Map<string, number>) {
  if (seats.size === 0) return;
  const added = JSON.stringify([...seats].map(([id, n]) => ({ id, n })));
  // `v` reads the departures as they were before this statement: a capacity that grew was overbooked.
  const result = (await state.tx.execute(sql`
    update departures d set
      seats_booked = d.seats_booked + v.n,
      capacity = case when d.capacity is null then null else greatest(d.capacity, d.seats_booked + v.n) end
    from (
      select x.id, x.n, o.capacity as before
      from jsonb_to_recordset(${added}::jsonb) as x(id uuid, n int) join departures o on o.id = x.id
    ) as v
    where d.id = v.id
    returning d.id, d.capacity > v.before as raised`)) as unknown as {
    rows: { id: string; raised: boolean }[];
  };
  for (const row of result.rows) if (row.raised) state.raised.add(row.id);
}

export async function overbookedTours(state: RunState): Promise<ImportReport['overbooked']> {
  if (state.raised.size === 0) return [];
  const result = (await state.tx.execute(sql`
    select l.legacy_id as "legacyId", t.slug, t.max_guest as "maxGuest", d.seats_booked as sold
    from departures d
    join tours t on t.id = d.tour_id
    join legacy_ids l on l.new_id = d.id and l.collection = 'tours.departure'
    where d.id in ${[...state.raised]}
    order by t.slug`)) as unknown as { rows: ImportReport['overbooked'] };
  for (const row of result.rows) {
    note(
      state,
      'tours',
      row.legacyId,
      `sold ${row.sold} seats for maxGuest ${row.maxGuest}: capacity raised to ${row.sold}`,
    );
  }
  return result.rows;
}

const RECEIVED = new Set(['PAID', 'REFUNDED']);

export async function loadPayments(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<PaymentRow>(state, 'payments', docs, mapPayment);
  if (rows.length === 0) return;
  const refs = await known(state.tx, [{ collection: 'bookings', ids: rows.map((r) => r.booking) }]);
  const bookingIds = [...new Set(rows.flatMap((r) => refs.get(key('bookings', r.booking))?.newId ?? []))];
  const bookingRows =
    bookingIds.length === 0
      ? []
      : await state.tx
          .select({ id: bookings.id, createdAt: bookings.createdAt, updatedAt: bookings.updatedAt })
          .from(bookings)
          .where(inArray(bookings.id, bookingIds));
  const bookingInfo = new Map(bookingRows.map((b) => [b.id, b]));
  const paid = new Set(
    bookingIds.length === 0
      ? []
      : (
          await state.tx
            .select({ bookingId: payments.bookingId })
            .from(payments)
            .where(inArray(payments.bookingId, bookingIds))
        ).map((p) => p.bookingId),
  );
  const transactions = new Set(
    (
      await state.tx
        .select({ transactionId: payments.transactionId })
        .from(payments)
        .where(
          inArray(
            payments.transactionId,
            rows.map((r) => r.transactionId),
          ),
        )
    ).map((p) => p.transactionId),
  );
  const values: (typeof payments.$inferInsert)[] = [];
  const pairs: { legacyId: string; newId: string }[] = [];
  for (const row of rows) {
    const booking = refs.get(key('bookings', row.booking));
    const info = booking && bookingInfo.get(booking.newId);
    if (!booking || !info) {
      refuse(state, 'payments', row.legacyId, `booking ${row.booking} was not imported (missing or refused)`);
    } else if (paid.has(booking.newId)) {
      refuse(state, 'payments', row.legacyId, `booking ${row.booking} already has a payment`);
    } else if (!claim(transactions, row.transactionId)) {
      refuse(
        state,
        'payments',
        row.legacyId,
        `transactionId ${row.transactionId} is already used by another payment`,
      );
    } else {
      paid.add(booking.newId);
      const id = newId();
      const gateway = row.gatewayData ?? {};
      const createdAt = row.createdAt ?? info.createdAt;
      values.push({
        id,
        bookingId: booking.newId,
        transactionId: row.transactionId,
        status: row.status,
        amountMinor: row.amountMinor,
        gateway: 'sslcommerz',
        gatewayData: row.gatewayData,
        gatewayStatus: typeof gateway.status === 'string' ? gateway.status : null,
        valId: typeof gateway.val_id === 'string' ? gateway.val_id : null,
        bankTranId: typeof gateway.bank_tran_id === 'string' ? gateway.bank_tran_id : null,
        // A legacy REFUNDED payment was given back whole (partial refunds did not exist).
        refundedMinor: row.status === 'REFUNDED' ? row.amountMinor : 0,
        paidAt: RECEIVED.has(row.status) ? (row.updatedAt ?? info.updatedAt) : null,
        createdAt,
        updatedAt: row.updatedAt ?? createdAt,
      });
      pairs.push({ legacyId: row.legacyId, newId: id });
    }
  }
  if (values.length === 0) return;
  await state.tx.insert(payments).values(values);
  await remember(state, 'payments', pairs);
  // What the customer was asked to pay is the booking's amount, as it was priced then. Usually it is the
  // costFrom × guests the booking was loaded with, and the booking (a wide, much indexed row) is not rewritten.
  const amounts = JSON.stringify(values.map((v) => ({ id: v.bookingId, amount: v.amountMinor })));
  await state.tx.execute(sql`
    update bookings b set amount_minor = v.amount
    from jsonb_to_recordset(${amounts}::jsonb) as v(id uuid, amount bigint)
    where b.id = v.id and b.amount_minor <> v.amount`);
  state.report.counts.payments.imported += values.length;
}
