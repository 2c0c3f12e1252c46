import { and, inArray, sql } from 'drizzle-orm';
import type { Database, Tx } from '../../db/client.js';
import {
  bookings,
  departures,
  divisions,
  LEGACY_COLLECTIONS,
  type LegacyCollection,
  legacyIds,
  payments,
  tours,
  tourTypes,
  userAuths,
  users,
} from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import {
  type BookingRow,
  type DivisionRow,
  type Mapped,
  mapBooking,
  mapDivision,
  mapPayment,
  mapTour,
  mapTourType,
  mapUser,
  type PaymentRow,
  type TourRow,
  type TourTypeRow,
  type UserRow,
} from './mappers.js';
import { findCollectionFiles, type LegacyDocument, readDocuments } from './readers.js';

/** A document left out, and why; `legacyId` is null when the document has no usable `_id`. */
export interface Refusal {
  collection: LegacyCollection;
  legacyId: string | null;
  reason: string;
}

/** Something imported with a change the operator should know about (a dropped password, a raised capacity). */
export interface Note {
  collection: LegacyCollection;
  legacyId: string;
  note: string;
}

export interface CollectionCounts {
  read: number;
  imported: number;
  alreadyImported: number;
  refused: number;
}

export interface ImportReport {
  dryRun: boolean;
  /** Collections in the order they were loaded; a collection with no file reads nothing. */
  counts: Record<LegacyCollection, CollectionCounts>;
  missing: LegacyCollection[];
  /** The first MAX_LISTED refusals and notes; every one is also given to `onRefusal` / `onNote`. */
  refusals: Refusal[];
  notes: Note[];
  /** Legacy tours sold beyond their maxGuest: their departure's capacity was raised to what was sold. */
  overbooked: { legacyId: string; slug: string; maxGuest: number; sold: number }[];
}

export interface ImportOptions {
  db: Database;
  clock: Clock;
  /** How long an imported PENDING booking keeps its seats for a payment (BOOKING_HOLD_MINUTES). */
  holdMinutes: number;
  folder: string;
  /** Runs everything, then rolls back: the report is the one a real run would give. */
  dryRun?: boolean;
  batchSize?: number;
  onRefusal?: (refusal: Refusal) => void;
  onNote?: (note: Note) => void;
  /** After each batch is written (inside the transaction); a throw aborts the import and rolls it back. */
  onProgress?: (collection: LegacyCollection, counts: CollectionCounts) => void | Promise<void>;
}

const MAX_LISTED = 1000;

class DryRunRollback extends Error {}

interface RunState {
  tx: Tx;
  now: Date;
  holdMinutes: number;
  report: ImportReport;
  options: ImportOptions;
  /** Departures whose capacity an overbooked legacy tour raised (a handful, not one per booking). */
  raised: Set<string>;
}

/**
 * Loads a legacy dump into the database in one transaction: everything or, after any failure, nothing.
 * Collections load in reference order, each streamed in batches; a record already in `legacy_ids` is
 * skipped, so a second run over the same dump adds nothing.
 */
export async function importLegacyDump(options: ImportOptions): Promise<ImportReport> {
  const files = await findCollectionFiles(options.folder);
  if (files.size === 0) {
    throw new Error(
      `no legacy collection (${LEGACY_COLLECTIONS.map((c) => `${c}.bson`).join(', ')}, or .json) in ${options.folder} or a folder in it`,
    );
  }
  const report: ImportReport = {
    dryRun: Boolean(options.dryRun),
    counts: Object.fromEntries(
      LEGACY_COLLECTIONS.map((c) => [c, { read: 0, imported: 0, alreadyImported: 0, refused: 0 }]),
    ) as ImportReport['counts'],
    missing: LEGACY_COLLECTIONS.filter((c) => !files.has(c)),
    refusals: [],
    notes: [],
    overbooked: [],
  };
  try {
    await options.db.transaction(async (tx) => {
      const state: RunState = {
        tx,
        now: options.clock.now(),
        holdMinutes: options.holdMinutes,
        report,
        options,
        raised: new Set(),
      };
      for (const collection of LOAD_ORDER) {
        const file = files.get(collection);
        if (!file) continue;
        let batch: LegacyDocument[] = [];
        const flush = async () => {
          await LOADERS[collection](state, batch);
          batch = [];
          await options.onProgress?.(collection, report.counts[collection]);
        };
        for await (const doc of readDocuments(file)) {
          report.counts[collection].read++;
          batch.push(doc);
          if (batch.length >= (options.batchSize ?? 1000)) await flush();
        }
        if (batch.length > 0) await flush();
      }
      report.overbooked = await overbookedTours(state);
      // The statistics triggers appended one change row per record: fold them as the background job would.
      await tx.execute(sql`select stats_fold()`);
      if (options.dryRun) throw new DryRunRollback();
    });
  } catch (err) {
    if (!(err instanceof DryRunRollback)) throw err;
  }
  return report;
}

const LOAD_ORDER: readonly LegacyCollection[] = [
  'divisions',
  'tourtypes',
  'users',
  'tours',
  'bookings',
  'payments',
];

// ------------------------------------------------------------------------------------------ shared steps

function refuse(state: RunState, collection: LegacyCollection, legacyId: string | null, reason: string) {
  const refusal = { collection, legacyId, reason };
  state.report.counts[collection].refused++;
  if (state.report.refusals.length < MAX_LISTED) state.report.refusals.push(refusal);
  state.options.onRefusal?.(refusal);
}

function note(state: RunState, collection: LegacyCollection, legacyId: string, text: string) {
  const entry = { collection, legacyId, note: text };
  if (state.report.notes.length < MAX_LISTED) state.report.notes.push(entry);
  state.options.onNote?.(entry);
}

type Known = Map<string, { newId: string; thisRun: boolean }>;
const key = (collection: string, legacyId: string) => `${collection}:${legacyId}`;

/** The rows earlier runs (or earlier batches of this one) made of these legacy ids. */
async function known(tx: Tx, wanted: { collection: string; ids: Iterable<string> }[]): Promise<Known> {
  const ids = [...new Set(wanted.flatMap((w) => [...w.ids]))];
  const result: Known = new Map();
  if (ids.length === 0) return result;
  const rows = await tx
    .select({
      legacyId: legacyIds.legacyId,
      collection: legacyIds.collection,
      newId: legacyIds.newId,
      // now() is the transaction's start: a row stamped with it was written by this run.
      thisRun: sql<boolean>`${legacyIds.createdAt} = now()`,
    })
    .from(legacyIds)
    .where(
      and(
        inArray(legacyIds.legacyId, ids),
        inArray(
          legacyIds.collection,
          wanted.map((w) => w.collection as LegacyCollection),
        ),
      ),
    );
  for (const row of rows) result.set(key(row.collection, row.legacyId), row);
  return result;
}

/**
 * The mapped documents of a batch that are new: refusals reported, documents imported by an earlier run
 * counted and skipped, an `_id` met twice in this dump refused.
 */
async function newRows<T extends { legacyId: string }>(
  state: RunState,
  collection: LegacyCollection,
  docs: LegacyDocument[],
  map: (doc: LegacyDocument) => Mapped<T>,
): Promise<T[]> {
  const counts = state.report.counts[collection];
  const mapped: T[] = [];
  for (const doc of docs) {
    const result = map(doc);
    if ('refused' in result) {
      const id = doc._id;
      refuse(
        state,
        collection,
        typeof id === 'object' || typeof id === 'string' ? String(id) : null,
        result.refused,
      );
      continue;
    }
    for (const text of result.notes) note(state, collection, result.row.legacyId, text);
    mapped.push(result.row);
  }
  const done = await known(state.tx, [{ collection, ids: mapped.map((r) => r.legacyId) }]);
  const seen = new Set<string>();
  return mapped.filter((row) => {
    const earlier = done.get(key(collection, row.legacyId));
    if (seen.has(row.legacyId) || earlier?.thisRun) {
      refuse(state, collection, row.legacyId, '_id appears more than once in the dump');
      return false;
    }
    seen.add(row.legacyId);
    if (earlier) {
      counts.alreadyImported++;
      return false;
    }
    return true;
  });
}

async function remember(state: RunState, collection: string, pairs: { legacyId: string; newId: string }[]) {
  if (pairs.length === 0) return;
  await state.tx
    .insert(legacyIds)
    .values(pairs.map((p) => ({ ...p, collection: collection as LegacyCollection })));
}

/** Claims unique values in dump order: the first record keeps one, later ones are refused. */
function claim(taken: Set<string>, value: string): boolean {
  if (taken.has(value)) return false;
  taken.add(value);
  return true;
}

// ----------------------------------------------------------------------------------------- collections

async function loadDivisions(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<DivisionRow>(state, 'divisions', docs, mapDivision);
  if (rows.length === 0) return;
  const clash = await state.tx
    .select({ name: sql<string>`lower(${divisions.name})`, slug: divisions.slug })
    .from(divisions)
    .where(
      sql`lower(${divisions.name}) in ${rows.map((r) => r.name.toLowerCase())} or ${inArray(
        divisions.slug,
        rows.map((r) => r.slug),
      )}`,
    );
  const names = new Set(clash.map((c) => c.name));
  const slugs = new Set(clash.map((c) => c.slug));
  const accepted = rows.filter((row) => {
    if (!claim(names, row.name.toLowerCase())) {
      refuse(state, 'divisions', row.legacyId, `name "${row.name}" is already used by another division`);
    } else if (!claim(slugs, row.slug)) {
      refuse(state, 'divisions', row.legacyId, `slug "${row.slug}" is already used by another division`);
    } else return true;
    return false;
  });
  const values = accepted.map(({ legacyId: _legacy, ...row }) => ({ ...row, id: newId() }));
  if (values.length > 0) await state.tx.insert(divisions).values(values);
  await remember(
    state,
    'divisions',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: values[i]!.id })),
  );
  state.report.counts.divisions.imported += accepted.length;
}

async function loadTourTypes(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<TourTypeRow>(state, 'tourtypes', docs, mapTourType);
  if (rows.length === 0) return;
  const clash = await state.tx
    .select({ name: sql<string>`lower(${tourTypes.name})` })
    .from(tourTypes)
    .where(sql`lower(${tourTypes.name}) in ${rows.map((r) => r.name.toLowerCase())}`);
  const names = new Set(clash.map((c) => c.name));
  const accepted = rows.filter((row) => {
    if (claim(names, row.name.toLowerCase())) return true;
    refuse(state, 'tourtypes', row.legacyId, `name "${row.name}" is already used by another tour type`);
    return false;
  });
  const values = accepted.map(({ legacyId: _legacy, ...row }) => ({ ...row, id: newId() }));
  if (values.length > 0) await state.tx.insert(tourTypes).values(values);
  await remember(
    state,
    'tourtypes',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: values[i]!.id })),
  );
  state.report.counts.tourtypes.imported += accepted.length;
}

async function loadUsers(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<UserRow>(state, 'users', docs, mapUser);
  if (rows.length === 0) return;
  const emails = new Set(
    (
      await state.tx
        .select({ email: users.email })
        .from(users)
        .where(
          inArray(
            users.email,
            rows.map((r) => r.email),
          ),
        )
    ).map((r) => r.email),
  );
  const googleIds = rows.flatMap((r) => (r.googleId ? [r.googleId] : []));
  const linked = new Set(
    googleIds.length === 0
      ? []
      : (
          await state.tx
            .select({ providerId: userAuths.providerId })
            .from(userAuths)
            .where(and(sql`${userAuths.provider} = 'google'`, inArray(userAuths.providerId, googleIds)))
        ).map((r) => r.providerId),
  );
  const accepted = rows.filter((row) => {
    if (emails.has(row.email)) {
      refuse(state, 'users', row.legacyId, `email ${row.email} is already used by another user`);
      return false;
    }
    if (row.googleId && !claim(linked, row.googleId)) {
      refuse(
        state,
        'users',
        row.legacyId,
        `Google account ${row.googleId} is already linked to another user`,
      );
      return false;
    }
    emails.add(row.email);
    return true;
  });
  if (accepted.length === 0) return;
  const values = accepted.map(({ legacyId: _legacy, googleId: _google, ...row }) => ({
    ...row,
    id: newId(),
  }));
  await state.tx.insert(users).values(values);
  const auths = accepted.flatMap((row, i) => {
    const userId = values[i]!.id;
    return [
      ...(row.passwordHash
        ? [{ userId, provider: 'credentials', providerId: row.email, createdAt: row.createdAt }]
        : []),
      ...(row.googleId
        ? [{ userId, provider: 'google', providerId: row.googleId, createdAt: row.createdAt }]
        : []),
    ];
  });
  if (auths.length > 0) await state.tx.insert(userAuths).values(auths).onConflictDoNothing();
  await remember(
    state,
    'users',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: values[i]!.id })),
  );
  state.report.counts.users.imported += accepted.length;
}

async function loadTours(state: RunState, docs: LegacyDocument[]) {
  const rows = await newRows<TourRow>(state, 'tours', docs, mapTour);
  if (rows.length === 0) return;
  const refs = await known(state.tx, [
    { collection: 'divisions', ids: rows.map((r) => r.division) },
    { collection: 'tourtypes', ids: rows.map((r) => r.tourType) },
  ]);
  const slugs = new Set(
    (
      await state.tx
        .select({ slug: tours.slug })
        .from(tours)
        .where(
          inArray(
            tours.slug,
            rows.map((r) => r.slug),
          ),
        )
    ).map((r) => r.slug),
  );
  const accepted: (TourRow & { divisionId: string; tourTypeId: string })[] = [];
  for (const row of rows) {
    const division = refs.get(key('divisions', row.division));
    const tourType = refs.get(key('tourtypes', row.tourType));
    if (!division)
      refuse(state, 'tours', row.legacyId, `division ${row.division} was not imported (missing or refused)`);
    else if (!tourType) {
      refuse(state, 'tours', row.legacyId, `tourType ${row.tourType} was not imported (missing or refused)`);
    } else if (!claim(slugs, row.slug)) {
      refuse(state, 'tours', row.legacyId, `slug "${row.slug}" is already used by another tour`);
    } else accepted.push({ ...row, divisionId: division.newId, tourTypeId: tourType.newId });
  }
  if (accepted.length === 0) return;
  const tourValues = accepted.map(
    ({ legacyId: _l, division: _d, tourType: _t, startDate: _s, endDate: _e, ...row }) => ({
      ...row,
      id: newId(),
    }),
  );
  await state.tx.insert(tours).values(tourValues);
  // The legacy tour's one run: its dates (its creation when it had none, as the departures upgrade did) and
  // its maxGuest as capacity, raised later if the legacy system sold more.
  const departureValues = accepted.map((row, i) => {
    const startDate = row.startDate ?? row.endDate ?? row.createdAt;
    const endDate = row.endDate && row.endDate >= startDate ? row.endDate : startDate;
    return {
      id: newId(),
      tourId: tourValues[i]!.id,
      startDate,
      endDate,
      capacity: row.maxGuest,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  });
  await state.tx.insert(departures).values(departureValues);
  await remember(
    state,
    'tours',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: tourValues[i]!.id })),
  );
  await remember(
    state,
    'tours.departure',
    accepted.map((row, i) => ({ legacyId: row.legacyId, newId: departureValues[i]!.id })),
  );
  state.report.counts.tours.imported += accepted.length;
}

/** Bookings that hold seats in this system: the ones that count against a departure's capacity. */
const HOLDS_SEATS = new Set(['PENDING', 'COMPLETE']);

async function loadBookings(state: RunState, docs: LegacyDocument[]) {
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

async function overbookedTours(state: RunState): Promise<ImportReport['overbooked']> {
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

async function loadPayments(state: RunState, docs: LegacyDocument[]) {
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

const LOADERS: Record<LegacyCollection, (state: RunState, docs: LegacyDocument[]) => Promise<void>> = {
  divisions: loadDivisions,
  tourtypes: loadTourTypes,
  users: loadUsers,
  tours: loadTours,
  bookings: loadBookings,
  payments: loadPayments,
};
