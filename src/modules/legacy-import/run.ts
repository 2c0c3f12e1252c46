import { and, inArray, sql } from 'drizzle-orm';
import type { Database, Tx } from '../../db/client.js';
import { type LegacyCollection, legacyIds } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import type { Mapped } from './mappers.js';
import type { LegacyDocument } from './readers.js';

/* What one run of the import reports, and the steps every collection's loader shares. */

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

/** One run: its transaction, its start (the import's clock), and what it has reported so far. */
export interface RunState {
  tx: Tx;
  now: Date;
  holdMinutes: number;
  report: ImportReport;
  options: ImportOptions;
  /** Departures whose capacity an overbooked legacy tour raised (a handful, not one per booking). */
  raised: Set<string>;
}

export function refuse(
  state: RunState,
  collection: LegacyCollection,
  legacyId: string | null,
  reason: string,
) {
  const refusal = { collection, legacyId, reason };
  state.report.counts[collection].refused++;
  if (state.report.refusals.length < MAX_LISTED) state.report.refusals.push(refusal);
  state.options.onRefusal?.(refusal);
}

export function note(state: RunState, collection: LegacyCollection, legacyId: string, text: string) {
  const entry = { collection, legacyId, note: text };
  if (state.report.notes.length < MAX_LISTED) state.report.notes.push(entry);
  state.options.onNote?.(entry);
}

export type Known = Map<string, { newId: string; thisRun: boolean }>;
export const key = (collection: string, legacyId: string) => `${collection}:${legacyId}`;

/** The rows earlier runs (or earlier batches of this one) made of these legacy ids. */
export async function known(tx: Tx, wanted: { collection: string; ids: Iterable<string> }[]): Promise<Known> {
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
export async function newRows<T extends { legacyId: string }>(
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

export async function remember(
  state: RunState,
  collection: string,
  pairs: { legacyId: string; newId: string }[],
) {
  if (pairs.length === 0) return;
  await state.tx
    .insert(legacyIds)
    .values(pairs.map((p) => ({ ...p, collection: collection as LegacyCollection })));
}

/** Claims unique values in dump order: the first record keeps one, later ones are refused. */
export function claim(taken: Set<string>, value: string): boolean {
  if (taken.has(value)) return false;
  taken.add(value);
  return true;
}
