/**
 * `npm run bench`: the load-scenario benchmark.
 *
 * 1. Creates a fresh PostgreSQL database next to BENCH_DATABASE_URL (an admin connection, default
 *    postgres://postgres@127.0.0.1:5432/postgres) and loads the seeded dataset (bench/dataset.ts).
 * 2. Builds the app and starts it as `npm start` does (`node scripts/start.mjs`, which runs the server with
 *    the production memory settings) with NODE_ENV=production, LOG_LEVEL=warn, rate limits out of the way
 *    and no demo seed, and the baseline server (bench/baseline-server.ts) as another process. The
 *    one-departure booking scenarios start a second app instance the same way, on the same database.
 * 3. Drives every scenario with autocannon, each after a warm-up, sampling the app's RSS, measures the
 *    raw argon2id hash rate, checks the seat accounting after the booking scenarios, prints a table and
 *    writes it to the "## Load scenarios" section of docs/BENCHMARKS.md. The database is dropped at the end.
 *
 * Settings: BENCH_CONNECTIONS (50), BENCH_SECONDS (10 per scenario), BENCH_WARMUP_SECONDS (3),
 * BENCH_STATS_SECONDS (5), BENCH_ONLY (comma list of name fragments), BENCH_SEED (42), BENCH_TOURS,
 * BENCH_USERS, BENCH_BOOKINGS (dataset size), BENCH_SKIP_BUILD=1 (reuse dist/), BENCH_CPU_PROF=<dir>
 * (the app writes a V8 CPU profile there on exit), BENCH_NO_WRITE=1 (print only), BENCH_LIMITED_SEATS
 * (500: the seats left on the departure that sells out).
 * 4. Then the rush (bench/rush.ts, also `npm run bench:rush`): BENCH_RUSH_CLIENTS (2,000) clients book one
 *    departure of BENCH_RUSH_SEATS (100) seats at once through two instances; its own section of the document.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { memorySettings } from '../src/lib/memory-settings.js';
import type { HashRate } from './argon2-rate.js';
import {
  benchAdminUrl,
  benchAppEnv,
  createScratchDatabase,
  datasetSizesFromEnv,
  intEnv,
} from './database.js';
import { seedLargeDataset } from './dataset.js';
import { prepareFixtures, seatDrift } from './fixtures.js';
import { rssMiB, runLoad } from './load.js';
import {
  departureSeats,
  describeSeats,
  oneDepartureScenarios,
  prepareOneDeparture,
} from './one-departure.js';
import { buildApp, freePort, ROOT, type RunningProcess, startProcess } from './processes.js';
import { type Measured, renderSection, verdict, writeSection } from './report.js';
import { RUSH_SECTION, runRush } from './rush.js';
import { type Scenario, scenarios } from './scenarios.js';

async function packageVersions(): Promise<string> {
  const names = ['fastify', 'zod', 'drizzle-orm', 'pg', '@node-rs/argon2', 'fast-jwt', 'autocannon'];
  const versions = await Promise.all(
    names.map(async (name) => {
      const pkg = JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      return `${name} ${pkg.version}`;
    }),
  );
  return versions.join(', ');
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main() {
  const connections = Math.max(1, intEnv('BENCH_CONNECTIONS', 50));
  const seconds = Math.max(1, intEnv('BENCH_SECONDS', 10));
  const warmupSeconds = intEnv('BENCH_WARMUP_SECONDS', 3);
  const statsSeconds = Math.max(1, intEnv('BENCH_STATS_SECONDS', 5));
  const limitedSeats = Math.max(1, intEnv('BENCH_LIMITED_SEATS', 500));
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const sizes = datasetSizesFromEnv();

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
  const running: RunningProcess[] = [];

  const scratch = await createScratchDatabase(benchAdminUrl(), 'bench');
  const databaseUrl = scratch.url;
  try {
    console.log(`loading the dataset into ${scratch.name} ...`);
    const summary = await seedLargeDataset(databaseUrl, sizes);
    console.log(`dataset loaded in ${summary.seconds} s`);

    if (process.env.BENCH_SKIP_BUILD !== '1') {
      console.log('building the app ...');
      buildApp();
    }

    const [appPort, basePort] = [await freePort(), await freePort()];
    const env: Record<string, string> = {
      ...benchAppEnv({ publicUrl: `http://127.0.0.1:${appPort}`, databaseUrl, dataDir, superAdmin: summary }),
      HOST: '127.0.0.1',
      PORT: String(appPort),
      DATABASE_POOL_MAX: '20',
      REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
    };
    const profileDir = process.env.BENCH_CPU_PROF;
    // As `npm start` runs it: the launcher passes its node flags on to the server it starts.
    const appArgs = [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      'scripts/start.mjs',
    ];
    const app = await startProcess(appArgs, env, appPort, 'the app', { launcher: true });
    running.push(app);
    // What the server says it runs with (its start-up summary), e.g. "heap limit 304 MiB (...), ...".
    const memory = /^ {2}Memory: +(.*)$/m.exec(app.output())?.[1] ?? 'not reported';
    // A second instance on the same database, started the same way when a scenario needs two.
    let pair: Promise<RunningProcess[]> | undefined;
    const twoApps = () => {
      pair ??= freePort().then(async (port) => {
        const second = await startProcess(
          appArgs,
          { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
          port,
          'the second app instance',
          { launcher: true },
        );
        running.push(second);
        return [app, second];
      });
      return pair;
    };
    const baseline = await startProcess(
      ['--import', 'tsx', 'bench/baseline-server.ts'],
      { DATABASE_URL: databaseUrl, PORT: String(basePort), JWT_ACCESS_SECRET: env.JWT_ACCESS_SECRET! },
      basePort,
      'the baseline server',
    );
    running.push(baseline);
    const idleRssMiB = await rssMiB(app.pid);
    const launcherRssMiB = app.launcherPid === undefined ? undefined : await rssMiB(app.launcherPid);

    const config = loadConfig(env);
    const database = await openDatabase({ databaseUrl, dataDir, poolMax: 4 });
    try {
      const fixtures = await prepareFixtures(database.db, config, {
        customers: 300,
        refreshSessions: connections * 4,
        bookingTours: 5,
        adminEmail: summary.adminEmails[0]!,
      });
      const oneDeparture = await prepareOneDeparture(database.db, limitedSeats);
      const pgVersion = String(
        ((await database.pool!.query('show server_version')).rows[0] as { server_version: string })
          .server_version,
      );

      const all = [
        ...scenarios(fixtures, summary.password),
        ...oneDepartureScenarios(fixtures, oneDeparture),
      ];
      const picked =
        only.length === 0 ? all : all.filter((s) => only.some((o) => s.name.toLowerCase().includes(o)));
      const measure = async (scenario: Scenario): Promise<Measured> => {
        const targets =
          scenario.target === 'two apps' ? await twoApps() : [scenario.target === 'app' ? app : baseline];
        const baseUrl = targets.length === 1 ? targets[0]!.baseUrl : targets.map((t) => t.baseUrl);
        const conns = scenario.connections ?? connections;
        const duration = scenario.kind === 'stats' ? statsSeconds : seconds;
        if (warmupSeconds > 0 && scenario.warmup !== false) {
          await runLoad({
            baseUrl,
            connections: conns,
            seconds: warmupSeconds,
            request: scenario.request,
          });
        }
        const figures = await runLoad({
          baseUrl,
          connections: conns,
          seconds: duration,
          request: scenario.request,
          samplePid: targets.map((t) => t.pid),
        });
        const measured = { scenario, figures, connections: conns };
        console.log(
          `${scenario.name.padEnd(48)} ${fmt(figures.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(figures.p50).padStart(6)} ms  ` +
            `p99 ${fmt(figures.p99).padStart(6)} ms  cpu ${fmt(figures.cpuMsPerRequest ?? 0, 3)} ms/req  ` +
            `rss ${fmt(figures.peakRssMiB ?? 0, 0)} MiB  ${JSON.stringify(figures.statuses)}`,
        );
        return measured;
      };
      const loadBefore = os.loadavg()[0]!;
      const results: Measured[] = [];
      for (const scenario of picked) results.push(await measure(scenario));
      const loadAfter = os.loadavg()[0]!;

      console.log(`argon2id hash rate, ${connections} in flight ...`);
      const hashRate = JSON.parse(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', 'bench/argon2-rate.ts', String(connections), String(Math.min(seconds, 5))],
          { cwd: ROOT, env: { ...process.env, ...memorySettings(process.env).env }, encoding: 'utf8' },
        ),
      ) as HashRate;
      console.log(`argon2id: ${fmt(hashRate.hashesPerSec)} hashes/s`);
      const drift = await seatDrift(database.db, fixtures.bookingTours);
      const departureChecks = picked.some((s) => s.target === 'two apps')
        ? [
            describeSeats(
              'the departure with room for every request',
              await departureSeats(database.db, oneDeparture.ample.departureId),
            ),
            describeSeats(
              `the departure with ${oneDeparture.limited.seatsLeft} seats left`,
              await departureSeats(database.db, oneDeparture.limited.departureId),
            ),
          ]
        : [];

      const byName = new Map(results.map((m) => [m.scenario.name, m]));
      console.log('');
      for (const m of results) {
        const v = verdict(m, byName, hashRate);
        if (v) console.log(`${m.scenario.name}: ${v.replace(/\*/g, '')}`);
      }
      console.log(`seat accounting drift after bookings: ${drift}`);
      for (const line of departureChecks) console.log(line.replace(/\*/g, ''));

      const cpus = os.cpus();
      const section = renderSection(results, {
        date: new Date().toISOString().slice(0, 10),
        machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}`,
        node: process.version,
        postgres: pgVersion,
        packages: await packageVersions(),
        dataset:
          `bench/dataset.ts, seed ${summary.seed}: ${summary.tours} tours, ${summary.users} users, ` +
          `${summary.bookings} bookings with ${summary.payments} payments (loaded in ${summary.seconds} s)`,
        method:
          'app started as `npm start` (`node scripts/start.mjs`, the compiled server as a child process with the ' +
          `production memory settings; it reported: ${memory}) with NODE_ENV=production, LOG_LEVEL=warn, pool of 20, ` +
          'metrics on, no Redis, rate limits set out of reach; the one-departure scenarios add a second instance ' +
          'started the same way on the same database, autocannon alternating its connections between the two (CPU: ' +
          `both servers together; RSS: the larger); autocannon ${connections} connections in the bench process on the same 2 cores, ` +
          `${warmupSeconds} s warm-up then ${seconds} s per scenario (stats: 1 connection, ${statsSeconds} s, i.e. sequential calls); ` +
          'RSS sampled from /proc every 250 ms. Slugs rotate over 1,000 tours, users over 300 sessions; each refresh ' +
          'spends a distinct live refresh token (the successor goes back into the pool); logins rotate over 300 accounts; ' +
          `bookings are 1 guest on one of ${fixtures.bookingTours.length} tours, or on one departure (1 guest, or 1-4 guests ` +
          `on ${oneDeparture.limited.seatsLeft} seats left, no warm-up) by 300 users. The single-filter list is one division alone ` +
          "(the filtered list's; its total read from the kept counts by the app, counted by the baseline). The filtered list is division + tourType + " +
          `searchTerm "${fixtures.filter.searchTerm}" (${fixtures.filter.matches} matches). 1-minute load average ` +
          `${fmt(loadBefore, 2)} before the scenarios and ${fmt(loadAfter, 2)} after (the run itself adds about 2; ` +
          'more means other work shared the cores).',
        hashRate,
        seatDrift: drift,
        departureChecks,
        idleRssMiB,
        launcherRssMiB,
      });
      // A partial run prints its figures but leaves the document's full table alone.
      if (process.env.BENCH_NO_WRITE === '1' || only.length > 0) {
        console.log(`\n${section}`);
      } else {
        await writeSection(section);
        console.log(
          `\nfigures written to ${path.relative(process.cwd(), path.join(ROOT, 'docs', 'BENCHMARKS.md'))}`,
        );
      }
    } finally {
      await database.close();
    }
  } finally {
    for (const p of running.reverse()) await p.stop().catch(() => {});
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The rush (bench/rush.ts) on its own database and instances, after the load scenarios have stopped theirs. */
async function rush() {
  const only = (process.env.BENCH_ONLY ?? '').toLowerCase();
  if (only !== '' && !only.includes('rush')) return;
  const { section } = await runRush({ skipBuild: true });
  console.log(`\n${section}`);
  if (process.env.BENCH_NO_WRITE !== '1') await writeSection(section, RUSH_SECTION);
}

main()
  .then(rush)
  .catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
