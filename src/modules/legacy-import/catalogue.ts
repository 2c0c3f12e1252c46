import { inArray, sql } from 'drizzle-orm';
import { departures, divisions, tours, tourTypes } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import {
  type DivisionRow,
  mapDivision,
  mapTour,
  mapTourType,
  type TourRow,
  type TourTypeRow,
} from './mappers.js';
import type { LegacyDocument } from './readers.js';
import { claim, key, known, newRows, type RunState, refuse, remember } from './run.js';

/* Divisions, tour types and tours (each tour with its first departure). */

export async function loadDivisions(state: RunState, docs: LegacyDocument[]) {
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

export async function loadTourTypes(state: RunState, docs: LegacyDocument[]) {
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

export async function loadTours(state: RunState, docs: LegacyDocument[]) {
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
