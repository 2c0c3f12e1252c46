import type { Database } from '../../db/client.js';
import type { Storage } from '../../lib/storage/storage.js';
import { ensureInvoice } from './invoice.js';
import { paidWithoutInvoice } from './repo.js';

/** Invoices still missing for paid payments get generated (their queued emails are then released). */
export async function generateMissingInvoices(
  deps: { db: Database; storage: Storage },
  now: Date,
  batch = 20,
) {
  const ids = await paidWithoutInvoice(deps.db, batch);
  for (const id of ids) await ensureInvoice(deps.db, deps.storage, id, now);
  return ids.length;
}
