import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { DatabaseHandle } from './client.js';

/** The SQL migrations live at the package root, so src/ and dist/ both find them at ../../migrations. */
export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Arbitrary constant: serialises migrations when several instances start at once.
const MIGRATION_LOCK_ID = 728_341_905;

/** How many migrations the database has on record (none before the first run). */
async function recordedMigrations(handle: DatabaseHandle): Promise<number> {
  const rows = async <Row>(query: ReturnType<typeof sql>) =>
    ((await handle.db.execute(query)) as unknown as { rows: Row[] }).rows;
  const [table] = await rows<{ name: string | null }>(
    sql`select to_regclass('drizzle.__drizzle_migrations')::text as name`,
  );
  if (!table?.name) return 0;
  const [count] = await rows<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return count?.n ?? 0;
}

export interface MigrationResult {
  /** Migrations this run applied. */
  applied: number;
  /** Migrations on record now. */
  total: number;
}

/** Needs two pool connections on PostgreSQL: one holds the lock while the migrator uses another. */
export async function runMigrations(handle: DatabaseHandle): Promise<MigrationResult> {
  if (handle.kind === 'pglite') {
    const before = await recordedMigrations(handle);
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the concrete driver type
    await migratePglite(handle.db as any, { migrationsFolder });
    const total = await recordedMigrations(handle);
    return { applied: total - before, total };
  }
  const client = await handle.pool!.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    // Counted under the lock: an instance that waited for another's migrations reports none of its own.
    const before = await recordedMigrations(handle);
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the concrete driver type
    await migratePg(handle.db as any, { migrationsFolder });
    const total = await recordedMigrations(handle);
    return { applied: total - before, total };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
}
