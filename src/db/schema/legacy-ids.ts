import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';

/** The legacy MongoDB collections a `mongodump` of the old backend holds, as the import reads them. */
export const LEGACY_COLLECTIONS = [
  'users',
  'divisions',
  'tourtypes',
  'tours',
  'bookings',
  'payments',
] as const;
export type LegacyCollection = (typeof LEGACY_COLLECTIONS)[number];

/**
 * What the legacy import made of each MongoDB document: its ObjectId (24 lower-case hex digits) and the
 * row it became. A second import skips every id found here, and an old id in a path or filter is
 * resolved through it. `tours.departure` names the first departure made from a legacy tour's dates.
 */
export const legacyIds = pgTable(
  'legacy_ids',
  {
    legacyId: text('legacy_id').notNull(),
    collection: text('collection').$type<LegacyCollection | 'tours.departure'>().notNull(),
    newId: uuid('new_id').notNull(),
    createdAt: createdAt(),
  },
  // Led by the legacy id: the id resolution looks an id up without knowing its collection.
  (t) => [primaryKey({ columns: [t.legacyId, t.collection] })],
);
