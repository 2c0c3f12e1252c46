import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, readSettings } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { runMigrations } from '../../db/migrate.js';
import { systemClock } from '../../lib/clock.js';
import { type ImportReport, importLegacyDump } from './loader.js';

/*
 * npm run import:legacy -- --from <mongodump or mongoexport folder> [--dry-run]
 * Reads the same settings as the server (environment over .env): DATABASE_URL, else the embedded database
 * in DATA_DIR. Exit code 0 when the import ran (refusals included), 1 when it failed and changed nothing.
 */

const USAGE = 'usage: npm run import:legacy -- --from <folder> [--dry-run] [--batch-size <n>]';

function printReport(report: ImportReport): void {
  const rows = Object.entries(report.counts).map(([collection, c]) =>
    [collection.padEnd(10), c.read, c.imported, c.alreadyImported, c.refused].map(String),
  );
  const header = ['collection', 'read', 'imported', 'already', 'refused'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}`);
  for (const row of rows) console.log(line(row));
  if (report.missing.length > 0) console.log(`\nNo file for: ${report.missing.join(', ')}`);
  for (const tour of report.overbooked) {
    console.log(
      `Overbooked: tour ${tour.slug} (${tour.legacyId}) sold ${tour.sold} seats for maxGuest ${tour.maxGuest}; capacity raised`,
    );
  }
  console.log(
    report.dryRun
      ? '\nDry run: nothing was written. The same run without --dry-run imports the records above.'
      : '\nImported in one transaction. Running it again imports only records not imported yet.',
  );
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  const OPTIONS = {
    from: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
  } as const;
  try {
    args = parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const batchSize = args['batch-size'] === undefined ? 1000 : Number(args['batch-size']);
  if (!args.from || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2000) {
    console.error(`--from is required; --batch-size is 1..2000\n${USAGE}`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(readSettings().env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: 3,
    // One statement loads a batch of a thousand records: on a busy server that can take more than the
    // API's 30 s, and a stalled import is better waited for than started again.
    queryTimeoutMs: 15 * 60_000,
  });
  try {
    const started = performance.now();
    const migrations = await runMigrations(database);
    if (migrations.applied > 0) console.log(`Migrations: ${migrations.applied} applied (${database.kind})`);
    console.log(
      `${args['dry-run'] ? 'Dry run of the import' : 'Importing'} from ${args.from} into ${database.kind}`,
    );
    const report = await importLegacyDump({
      db: database.db,
      clock: systemClock,
      holdMinutes: config.bookingHoldMinutes,
      folder: args.from,
      dryRun: args['dry-run'],
      batchSize,
      onRefusal: (r) => console.log(`refused ${r.collection} ${r.legacyId ?? '(no _id)'}: ${r.reason}`),
      onNote: (n) => console.log(`note    ${n.collection} ${n.legacyId}: ${n.note}`),
      onProgress: (collection, counts) => {
        if (counts.read % (batchSize * 10) === 0) console.log(`  ${collection}: ${counts.read} read`);
      },
    });
    printReport(report);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const peakMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
    console.log(`Took ${seconds} s; peak memory (RSS) ${peakMiB} MiB.`);
    return 0;
  } catch (err) {
    // The driver's own error, not the failed statement: its parameters hold the records (emails, hashes).
    const cause = (err as Error & { cause?: unknown }).cause;
    const message = cause instanceof Error ? cause.message : (err as Error).message;
    console.error(`Import failed, nothing was written: ${message.slice(0, 500)}`);
    return 1;
  } finally {
    await database.close();
  }
}

process.exitCode = await main();
