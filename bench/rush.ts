/**
 * The rush: a popular departure opens and everyone books at once.
 *
 * `npm run bench:rush` (also the last part of `npm run bench`):
 * 1. Creates a scratch database next to BENCH_DATABASE_URL, migrates it and adds one tour with one upcoming
 *    departure of BENCH_RUSH_SEATS seats (100) and signed-in customers (one per client, at most 2,000 sessions;
 *    more clients reuse them).
 * 2. Starts two app instances as documented (`node scripts/start.mjs`, NODE_ENV=production, pool of 20 each,
 *    the bench settings of bench/database.ts) and the baseline server, all on that database.
 * 3. Sends BENCH_RUSH_CLIENTS (2,000) one-guest bookings of that departure at the same moment, alternating
 *    between the instances, each on its own connection; counts the answers by status, their p50/p99/max, and
 *    checks the departure: exactly its seats held, by exactly the bookings answered 201.
 * 4. Then, the departure full, compares a SOLD_OUT answer with a raw-SQL read of the departure row (the
 *    baseline's GET /sql/departure/:id), each under autocannon for BENCH_SECONDS (10) with BENCH_CONNECTIONS
 *    (50): CPU per request of the serving processes and p99, and their ratios.
 *
 * Writes the "## The rush" section of docs/BENCHMARKS.md (BENCH_NO_WRITE=1: print only), with the machine and
 * its load average. BENCH_SKIP_BUILD=1 reuses dist/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { departures, divisions, tours, tourTypes, users as usersTable } from '../src/db/schema/index.js';
import { startSession } from '../src/modules/auth/sessions.js';
import { createTokenService } from '../src/modules/auth/tokens.js';
import { benchAdminUrl, benchAppEnv, createScratchDatabase, intEnv } from './database.js';
import { type LoadFigures, runLoad } from './load.js';
import { departureSeats, describeSeats, oversold } from './one-departure.js';
import { buildApp, freePort, type RunningProcess, startProcess } from './processes.js';
import { writeSection } from './report.js';

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const DAY_MS = 24 * 60 * 60 * 1000;
export const RUSH_SECTION = '## The rush';

/** One POST on its own connection (no keep-alive pool): every client reaches the server at once. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; ms: number; code?: string; bookingId?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let parsed: { code?: string; data?: { booking?: { _id?: string } } } = {};
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - started,
            code: parsed.code,
            bookingId: parsed.data?.booking?._id,
          });
        });
      },
    );
    req.on('error', (err) => resolve({ status: 0, ms: performance.now() - started, code: err.message }));
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export interface RushResult {
  section: string;
  ok: boolean;
}

export async function runRush(options: { skipBuild?: boolean } = {}): Promise<RushResult> {
  const clients = Math.max(1, intEnv('BENCH_RUSH_CLIENTS', 2000));
  const seats = Math.max(1, intEnv('BENCH_RUSH_SEATS', 100));
  const seconds = Math.max(1, intEnv('BENCH_SECONDS', 10));
  const connections = Math.max(1, intEnv('BENCH_CONNECTIONS', 50));
  const sessions = Math.min(clients, 2000);

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-rush-'));
  const scratch = await createScratchDatabase(benchAdminUrl(), 'bench_rush');
  const running: RunningProcess[] = [];
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    const superAdmin = {
      superAdminEmail: 'rush-admin@bench.local',
      password: `Rush-${randomBytes(9).toString('hex')}`,
    };
    // One set of settings (the same signing secrets) for both instances; only the port differs.
    const shared = benchAppEnv({
      publicUrl: `http://127.0.0.1:${ports[0]}`,
      databaseUrl: scratch.url,
      dataDir,
      superAdmin,
    });
    const env = (port: number): Record<string, string> => ({
      ...shared,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_POOL_MAX: '20',
      REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
    });
    const appEnv = env(ports[0]!);
    const config = loadConfig(appEnv);

    const database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolMax: 4 });
    let departureId: string;
    let tourId: string;
    let authorizations: string[];
    try {
      await runMigrations(database);
      const db = database.db;
      const [division] = await db
        .insert(divisions)
        .values({ name: 'Rush', slug: 'rush' })
        .returning({ id: divisions.id });
      const [type] = await db.insert(tourTypes).values({ name: 'Rush' }).returning({ id: tourTypes.id });
      const [tour] = await db
        .insert(tours)
        .values({
          title: 'The popular departure',
          slug: 'the-popular-departure',
          costFromMinor: 500_000,
          maxGuest: seats,
          divisionId: division!.id,
          tourTypeId: type!.id,
        })
        .returning({ id: tours.id });
      const start = new Date(Date.now() + 30 * DAY_MS);
      const [departure] = await db
        .insert(departures)
        .values({
          tourId: tour!.id,
          startDate: start,
          endDate: new Date(start.getTime() + DAY_MS),
          capacity: seats,
        })
        .returning({ id: departures.id });
      tourId = tour!.id;
      departureId = departure!.id;

      console.log(`rush: ${sessions} customers with a session ...`);
      const users = await db
        .insert(usersTable)
        .values(
          Array.from({ length: sessions }, (_, k) => ({
            name: `Rush Customer ${k + 1}`,
            email: `rush-${k + 1}@bench.local`,
            role: 'USER' as const,
            isVerified: true,
            phone: '+8801712345678',
            address: 'Dhaka',
          })),
        )
        .returning({ id: usersTable.id, email: usersTable.email });
      const tokens = createTokenService(config);
      const now = new Date();
      authorizations = [];
      for (const user of users) {
        const { accessToken } = await startSession(
          db,
          { tokens, config },
          { id: user.id, email: user.email, role: 'USER' },
          { ip: '127.0.0.1', userAgent: 'bench-rush' },
          now,
        );
        authorizations.push(`Bearer ${accessToken}`);
      }
    } finally {
      await database.close();
    }

    if (!options.skipBuild && process.env.BENCH_SKIP_BUILD !== '1') {
      console.log('rush: building the app ...');
      buildApp();
    }
    // One after the other: both migrate (nothing to do) and seed the super admin on start.
    for (const [k, port] of [ports[0]!, ports[1]!].entries()) {
      running.push(
        await startProcess(['scripts/start.mjs'], env(port), port, `app instance ${k + 1}`, {
          launcher: true,
        }),
      );
    }
    const baseline = await startProcess(
      ['--import', 'tsx', 'bench/baseline-server.ts'],
      { DATABASE_URL: scratch.url, PORT: String(ports[2]), JWT_ACCESS_SECRET: appEnv.JWT_ACCESS_SECRET! },
      ports[2]!,
      'the baseline server',
    );
    running.push(baseline);
    const apps = running.slice(0, 2);

    const loadBefore = os.loadavg();
    console.log(
      `rush: ${clients} clients book ${seats} seats at once (load average ${loadBefore.map((l) => fmt(l, 2)).join(' ')}) ...`,
    );
    const body = JSON.stringify({ tour: tourId, departure: departureId, guestCount: 1 });
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: clients }, (_, k) =>
        post(
          `${apps[k % 2]!.baseUrl}/api/v1/booking`,
          { authorization: authorizations[k % sessions]! },
          body,
        ),
      ),
    );
    const wallMs = performance.now() - started;
    const loadAfterRush = os.loadavg();

    const byStatus: Record<string, number> = {};
    for (const a of answers) {
      const key = a.status === 409 ? `409 ${a.code}` : String(a.status);
      byStatus[key] = (byStatus[key] ?? 0) + 1;
    }
    const times = answers.map((a) => a.ms).sort((x, y) => x - y);
    const fivexx = answers.filter((a) => a.status >= 500 || a.status === 0).length;
    const made = answers.filter((a) => a.status === 201);

    const check = await openDatabase({ databaseUrl: scratch.url, dataDir, poolMax: 2 });
    let seatsLine: string;
    let heldByAnswered: boolean;
    let exact: boolean;
    try {
      const held = await departureSeats(check.db, departureId);
      seatsLine = describeSeats(`the departure (${seats} seats)`, held);
      const holders = rowsOf<{ id: string }>(
        await check.db.execute(
          sql`select id from bookings where departure_id = ${departureId} and seats_held`,
        ),
      ).map((r) => r.id);
      const answered = new Set(made.map((a) => a.bookingId));
      heldByAnswered = holders.length === made.length && holders.every((id) => answered.has(id));
      exact = held.seatsBooked === seats && held.heldGuests === seats && oversold(held) === 0;
    } finally {
      await check.close();
    }
    console.log(
      `rush: ${JSON.stringify(byStatus)} in ${fmt(wallMs / 1000, 2)} s; p50 ${fmt(percentile(times, 50))} ms, p99 ${fmt(percentile(times, 99))} ms`,
    );
    console.log(`rush: ${seatsLine.replace(/\*/g, '')}; every holder was answered 201: ${heldByAnswered}`);

    // The departure is full: what a SOLD_OUT costs against a raw read of the departure row.
    console.log('rush: SOLD_OUT against the raw read of the departure row ...');
    let k = 0;
    const soldOut = await runLoad({
      baseUrl: apps.map((a) => a.baseUrl),
      connections,
      seconds,
      request: {
        method: 'POST',
        path: '/api/v1/booking',
        next: () => ({
          headers: { authorization: authorizations[k++ % sessions]!, 'content-type': 'application/json' },
          body,
        }),
      },
      samplePid: apps.map((a) => a.pid),
    });
    const raw = await runLoad({
      baseUrl: baseline.baseUrl,
      connections,
      seconds,
      request: { method: 'GET', path: `/sql/departure/${departureId}` },
      samplePid: baseline.pid,
    });
    const loadAfter = os.loadavg();
    const cpuRatio = (soldOut.cpuMsPerRequest ?? Number.NaN) / (raw.cpuMsPerRequest ?? Number.NaN);
    const p99Ratio = soldOut.p99 / raw.p99;
    const line = (name: string, f: LoadFigures) =>
      `| ${name} | ${fmt(f.reqPerSec, 0)} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.cpuMsPerRequest ?? 0, 3)} | ${JSON.stringify(f.statuses)} |`;
    const soldOutAll = soldOut.statuses['409'] === soldOut.requests;

    const cpus = os.cpus();
    const ok = fivexx === 0 && exact && heldByAnswered && soldOutAll;
    const section = [
      RUSH_SECTION,
      '',
      `Run ${new Date().toISOString().slice(0, 10)} by \`npm run bench:rush\` (bench/rush.ts): ${clients} clients book one ` +
        `${seats}-seat departure at the same moment, each on its own connection, alternating between two app ` +
        'instances started as `npm start` (NODE_ENV=production, pool of 20 each, the bench settings) on one ' +
        `PostgreSQL database; ${sessions} signed-in customers. Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
        `${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; the client ` +
        'runs on the same cores. 1-, 5- and 15-minute load average before the rush ' +
        `${loadBefore.map((l) => fmt(l, 2)).join(' / ')}, after it ${loadAfterRush.map((l) => fmt(l, 2)).join(' / ')}, ` +
        `after the comparison ${loadAfter.map((l) => fmt(l, 2)).join(' / ')} (the run itself adds about 2; more ` +
        'means other work shared the cores).',
      '',
      '| The rush | Figure |',
      '|---|---|',
      `| Answers | ${Object.entries(byStatus)
        .map(([s, n]) => `${n} × ${s}`)
        .join(', ')} |`,
      `| Answers 5xx (or no answer) | ${fivexx === 0 ? '0' : `**${fivexx}**`} |`,
      `| Seats | ${seatsLine} |`,
      `| Every seat held by a booking answered 201 | ${heldByAnswered ? 'yes' : '**no**'} |`,
      `| Latency (all ${clients}) | p50 ${fmt(percentile(times, 50))} ms, p99 ${fmt(percentile(times, 99))} ms, max ${fmt(times.at(-1) ?? 0)} ms; all answered in ${fmt(wallMs / 1000, 2)} s |`,
      '',
      `Then, the departure full, ${seconds} s each with ${connections} keep-alive connections (autocannon): a booking ` +
        'of it through both instances (SOLD_OUT) against the baseline process reading the departure row with raw ' +
        'SQL (`GET /sql/departure/:id`). CPU: the serving processes, per answered request.',
      '',
      '| Request | req/s | p50 ms | p99 ms | CPU ms/req | Statuses |',
      '|---|---|---|---|---|---|',
      line('POST /booking, full departure (2 instances)', soldOut),
      line('raw SQL read of the departure row (baseline)', raw),
      '',
      `SOLD_OUT costs ${fmt(cpuRatio, 2)}× the raw read in CPU per request and ${fmt(p99Ratio, 2)}× its p99 ` +
        `(target: at most 1.5×)${soldOutAll ? '' : '; **not every answer was SOLD_OUT**'}.`,
    ].join('\n');
    return { section, ok };
  } finally {
    for (const p of running.reverse()) await p.stop().catch(() => {});
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const { section, ok } = await runRush();
  console.log(`\n${section}`);
  if (process.env.BENCH_NO_WRITE !== '1') await writeSection(section, RUSH_SECTION);
  if (!ok) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    if (err instanceof Error && err.cause) console.error('caused by:', err.cause);
    process.exit(1);
  });
}
