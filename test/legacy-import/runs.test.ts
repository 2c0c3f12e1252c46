import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import type { Clock } from '../../src/lib/clock.js';
import { type ImportReport, importLegacyDump, type Refusal } from '../../src/modules/legacy-import/loader.js';
import { buildTestApp, TEST_ENV, type TestApp } from '../helpers/app.js';
import { type DumpFormat, type LegacyDoc, writeDump } from '../helpers/legacy-dump.js';
import { legacyWorld } from './legacy-world.js';

// What a run does to the database as a whole: the formats read alike, a dry run and a real run refuse the
// same records, a second run adds nothing, and a run that fails or is killed halfway leaves nothing.

const now = new Date();
const clock: Clock = { now: () => now };
const world = legacyWorld(now);

let t: TestApp;
let dir: string;

beforeAll(async () => {
  t = await buildTestApp();
  dir = await mkdtemp(path.join(tmpdir(), 'legacy-runs-'));
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function dump(name: string, format: DumpFormat, collections = world.collections): Promise<string> {
  const folder = path.join(dir, name);
  await writeDump(folder, collections, format);
  return folder;
}

async function run(folder: string, options: { dryRun?: boolean; db?: Database } = {}) {
  const refusals: Refusal[] = [];
  const report = await importLegacyDump({
    db: options.db ?? t.ctx.db,
    clock,
    holdMinutes: 30,
    folder,
    dryRun: options.dryRun,
    batchSize: 4,
    onRefusal: (r) => refusals.push(r),
  });
  return { report, refusals };
}

type Snapshot = Record<
  | 'users'
  | 'user_auths'
  | 'divisions'
  | 'tour_types'
  | 'tours'
  | 'departures'
  | 'seats'
  | 'bookings'
  | 'payments'
  | 'legacy_ids'
  | 'tour_counts'
  | 'stats_bookings'
  | 'stats_payments'
  | 'stats_users',
  number
>;

/** Everything an import writes, counted, with the kept counts and the statistics summaries' totals. */
async function snapshot(db: Database = t.ctx.db): Promise<Snapshot> {
  const result = (await db.execute(sql`select
      (select count(*) from users)::int as users,
      (select count(*) from user_auths)::int as user_auths,
      (select count(*) from divisions)::int as divisions,
      (select count(*) from tour_types)::int as tour_types,
      (select count(*) from tours)::int as tours,
      (select count(*) from departures)::int as departures,
      (select coalesce(sum(seats_booked), 0) from departures)::int as seats,
      (select count(*) from bookings)::int as bookings,
      (select count(*) from payments)::int as payments,
      (select count(*) from legacy_ids)::int as legacy_ids,
      (select coalesce(sum(n), 0) from tour_counts)::int as tour_counts,
      (select coalesce(sum(bookings), 0) from stats_booking_days)::int as stats_bookings,
      (select coalesce(sum(payments), 0) from stats_payment_groups)::int as stats_payments,
      (select coalesce(sum(users), 0) from stats_user_groups)::int as stats_users`)) as unknown as {
    rows: Snapshot[];
  };
  return result.rows[0]!;
}

const imported = (report: ImportReport) =>
  Object.fromEntries(Object.entries(report.counts).map(([c, n]) => [c, n.imported]));
const reasons = (refusals: Refusal[]) => refusals.map((r) => `${r.collection} ${r.legacyId}: ${r.reason}`);

describe('runs of the legacy import', () => {
  it('reads Extended JSON lines and arrays as it reads BSON, and a dry run changes nothing', async () => {
    const before = await snapshot();
    const bson = await run(await dump('bson', 'bson'), { dryRun: true });
    const lines = await run(await dump('lines', 'jsonl'), { dryRun: true });
    const array = await run(await dump('array', 'json-array'), { dryRun: true });
    expect(bson.report.dryRun).toBe(true);
    expect(imported(bson.report)).toEqual(world.imported);
    expect(bson.refusals).toHaveLength(world.refused.length);
    for (const other of [lines, array]) {
      expect(imported(other.report)).toEqual(world.imported);
      expect(reasons(other.refusals)).toEqual(reasons(bson.refusals));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses in a real run what the dry run refused, and a second run adds nothing', async () => {
    const folder = await dump('again', 'jsonl');
    const dry = await run(folder, { dryRun: true });
    const real = await run(folder);
    expect(reasons(real.refusals)).toEqual(reasons(dry.refusals));
    expect(imported(real.report)).toEqual(imported(dry.report));
    const after = await snapshot();
    expect(after.bookings).toBe(world.imported.bookings);

    const second = await run(folder);
    expect(Object.values(imported(second.report)).every((n) => n === 0)).toBe(true);
    for (const [collection, n] of Object.entries(world.imported)) {
      expect(
        second.report.counts[collection as keyof typeof world.imported].alreadyImported,
        collection,
      ).toBe(n);
    }
    expect(await snapshot()).toEqual(after);
  });

  it('adds only the new records of a later dump, on the departures it made before', async () => {
    const before = await snapshot();
    const booking = new ObjectId();
    const later = {
      ...world.collections,
      bookings: [
        ...world.collections.bookings,
        { _id: booking, user: world.ids.bob, tour: world.ids.sundarbans, guestCount: 2, status: 'PENDING' },
      ],
      payments: [
        ...world.collections.payments,
        { _id: new ObjectId(), booking, transactionId: 'tran_later_1', status: 'UNPAID', amount: 3001 },
      ],
    };
    const { report } = await run(await dump('later', 'bson', later));
    expect(imported(report)).toEqual({
      divisions: 0,
      tourtypes: 0,
      users: 0,
      tours: 0,
      bookings: 1,
      payments: 1,
    });
    const after = await snapshot();
    expect(after).toMatchObject({
      bookings: before.bookings + 1,
      payments: before.payments + 1,
      departures: before.departures,
      seats: before.seats + 2,
    });
    const tour = await t.app.inject({ method: 'GET', url: '/api/v1/tour/sundarbans-safari' });
    expect(tour.json().data.availableSeats).toBe(10 - 3 - 2);
  });

  it('refuses a folder without any legacy collection, naming what it looks for', async () => {
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    await expect(run(empty)).rejects.toThrow(/no legacy collection \(users\.bson, .*\) in/);
  });

  it('stops at a truncated BSON file, saying where, and writes nothing', async () => {
    const folder = await dump('truncated', 'bson');
    const file = path.join(folder, 'bookings.bson');
    const size = (await stat(file)).size;
    await truncate(file, size - 7);
    const before = await snapshot();
    await expect(run(folder)).rejects.toThrow(/bookings\.bson: ends inside a document at byte \d+/);
    expect(await snapshot()).toEqual(before);
  });

  it('leaves the database as it was when a run fails halfway', async () => {
    const fresh = await buildTestApp();
    try {
      const before = await snapshot(fresh.ctx.db);
      const failing = importLegacyDump({
        db: fresh.ctx.db,
        clock,
        holdMinutes: 30,
        folder: await dump('fault', 'bson'),
        batchSize: 2,
        onProgress: (collection, counts) => {
          if (collection === 'bookings' && counts.read >= 4) throw new Error('disk full');
        },
      });
      await expect(failing).rejects.toThrow('disk full');
      expect(await snapshot(fresh.ctx.db)).toEqual(before);
    } finally {
      await fresh.close();
    }
  });

  it('leaves the database as it was when the import process is killed, and a new run then imports it all', async () => {
    const fresh = await buildTestApp();
    let child: ChildProcess | undefined;
    try {
      // Enough bookings that the process is still loading them when it is killed.
      const many: LegacyDoc[] = Array.from({ length: 3000 }, () => ({
        _id: new ObjectId(),
        user: world.ids.alice,
        tour: world.ids.quiet,
        guestCount: 1,
        status: 'CANCEL',
      }));
      const folder = await dump('killed', 'bson', {
        ...world.collections,
        bookings: [...world.collections.bookings, ...many],
      });
      const before = await snapshot(fresh.ctx.db);
      const cli = (args: string[]) =>
        spawn(
          process.execPath,
          ['--import', 'tsx', 'src/modules/legacy-import/cli.ts', '--from', folder, ...args],
          {
            env: { ...process.env, ...TEST_ENV, DATABASE_URL: fresh.databaseUrl, DATA_DIR: fresh.dataDir },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
      child = cli(['--batch-size', '5']);
      let output = '';
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (/bookings: \d+ read/.test(output)) resolve();
        });
        child!.once('exit', (code) =>
          reject(new Error(`the import ended (${code}) before it was killed:\n${output}`)),
        );
      });
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(await snapshot(fresh.ctx.db)).toEqual(before);

      child = cli([]);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const [code] = await once(child, 'exit');
      expect(code, out).toBe(0);
      expect(out).toContain('Imported in one transaction');
      expect((await snapshot(fresh.ctx.db)).bookings).toBe(world.imported.bookings + many.length);
    } finally {
      child?.kill('SIGKILL');
      await fresh.close();
    }
    // Two processes start (tsx compiles the sources each time) on a machine that may be busy.
  }, 180_000);
});
