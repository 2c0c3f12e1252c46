import { sql } from 'drizzle-orm';
import { LEGACY_COLLECTIONS, type LegacyCollection } from '../../db/schema/index.js';
import { loadDivisions, loadTours, loadTourTypes } from './catalogue.js';
import { findCollectionFiles, type LegacyDocument, readDocuments } from './readers.js';
import type { ImportOptions, ImportReport, RunState } from './run.js';
import { loadBookings, loadPayments, overbookedTours } from './sales.js';
import { loadUsers } from './users.js';

export type { CollectionCounts, ImportOptions, ImportReport, Note, Refusal } from './run.js';

class DryRunRollback extends Error {}

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

const LOADERS: Record<LegacyCollection, (state: RunState, docs: LegacyDocument[]) => Promise<void>> = {
  divisions: loadDivisions,
  tourtypes: loadTourTypes,
  users: loadUsers,
  tours: loadTours,
  bookings: loadBookings,
  payments: loadPayments,
};
