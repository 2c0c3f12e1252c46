/**
 * The app's own CPU per request on the hot reads, measured in-process: the production app (metrics on,
 * LOG_LEVEL=warn) on a small seeded database, called through `app.inject` with REQUEST_COST_CONCURRENCY
 * requests in flight (10), the routes interleaved in rounds so that load from other work spreads over all of
 * them alike. Prints the median of the rounds' CPU microseconds per request (process.cpuUsage: user + system,
 * so PostgreSQL's work in its own process is not counted; `app.inject` itself is, about as much as a bare
 * route costs). REQUEST_COST_PROF=<file> writes a V8 profile of the measured rounds.
 *
 * REQUEST_COST_COMPARE=<another checkout of this app, with its node_modules> builds that checkout's app too,
 * in the same process on the same database, and alternates the two round by round: a before/after comparison
 * that the machine's changing load cannot tilt.
 *
 * `tsx bench/request-cost.ts` — BENCH_DATABASE_URL as for `npm run bench`; REQUEST_COST_ROUNDS (12),
 * REQUEST_COST_CALLS (2000 per route and round), REQUEST_COST_ONLY=me,slug,list,division,health picks
 * routes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { benchAdminUrl, benchAppEnv, createScratchDatabase, intEnv } from './database.js';
import { seedLargeDataset } from './dataset.js';
import { prepareFixtures } from './fixtures.js';

const rounds = Math.max(1, intEnv('REQUEST_COST_ROUNDS', 12));
const calls = Math.max(1, intEnv('REQUEST_COST_CALLS', 2000));
const concurrency = Math.max(1, intEnv('REQUEST_COST_CONCURRENCY', 10));
const only = (process.env.REQUEST_COST_ONLY ?? '').split(',').filter(Boolean);
const profileFile = process.env.REQUEST_COST_PROF;
const compareWith = process.env.REQUEST_COST_COMPARE;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main() {
  const scratch = await createScratchDatabase(benchAdminUrl(), 'reqcost');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reqcost-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    const summary = await seedLargeDataset(scratch.url, { seed: 42, tours: 300, users: 400, bookings: 0 });
    const env = benchAppEnv({
      publicUrl: 'http://127.0.0.1:3000',
      databaseUrl: scratch.url,
      dataDir,
      superAdmin: summary,
    });
    const config = loadConfig(env);
    // Log lines are built as in production, then dropped.
    const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    const start = async (build: typeof buildApp): Promise<FastifyInstance> => {
      const database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolMax: 4 });
      const app = await build({ config, database, runJobs: false, logger: { stream: sink() } });
      await app.ready();
      closers.push(async () => {
        await app.close();
        await database.close();
      });
      return app;
    };
    const apps: Record<string, FastifyInstance> = { this: await start(buildApp) };
    if (compareWith) {
      const other = await import(pathToFileURL(path.resolve(compareWith, 'src/app.ts')).href);
      apps.other = await start(other.buildApp as typeof buildApp);
    }
    const db = (await openDatabase({ databaseUrl: scratch.url, dataDir, poolMax: 2 })) as Awaited<
      ReturnType<typeof openDatabase>
    >;
    closers.push(() => db.close());
    const fixtures = await prepareFixtures(db.db, config, {
      customers: 50,
      refreshSessions: 0,
      bookingTours: 0,
      adminEmail: summary.adminEmails[0]!,
    });
    const routes: Record<string, (k: number) => InjectOptions> = {
      me: (k) => ({
        method: 'GET',
        url: '/api/v1/user/me',
        headers: { authorization: fixtures.customers[k % fixtures.customers.length]!.authorization },
      }),
      slug: (k) => ({ method: 'GET', url: `/api/v1/tour/${fixtures.slugs[k % fixtures.slugs.length]}` }),
      list: () => ({ method: 'GET', url: '/api/v1/tour' }),
      division: () => ({ method: 'GET', url: `/api/v1/tour?division=${fixtures.filter.division}` }),
      health: () => ({ method: 'GET', url: '/health' }),
    };
    for (const name of Object.keys(routes)) if (only.length > 0 && !only.includes(name)) delete routes[name];

    const samples = new Map<string, number[]>();
    const profiler = new Session();
    if (profileFile) profiler.connect();
    const loadBefore = os.loadavg()[0]!.toFixed(2);
    for (let round = -1; round < rounds; round += 1) {
      if (round === 0 && profileFile) {
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      // Alternate which app goes first, so neither always runs right after the other's garbage.
      const order = round % 2 ? Object.entries(apps).reverse() : Object.entries(apps);
      for (const [appName, app] of order) {
        for (const [name, request] of Object.entries(routes)) {
          const started = process.cpuUsage();
          let next = 0;
          const worker = async () => {
            while (next < calls) {
              const res = await app.inject(request(next++));
              if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`);
            }
          };
          await Promise.all(Array.from({ length: concurrency }, worker));
          const used = process.cpuUsage(started);
          // Round -1 warms the code up and is not counted.
          const key = `${appName} ${name}`;
          if (round >= 0) samples.set(key, [...(samples.get(key) ?? []), (used.user + used.system) / calls]);
        }
      }
    }
    if (profileFile) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(profileFile, JSON.stringify(profile));
    }
    for (const [key, values] of samples) {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(
        `${key.padEnd(12)} CPU µs/request: median ${median(values).toFixed(1)}, ` +
          `min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} (${rounds} rounds × ${calls})`,
      );
    }
    console.log(`load average (1 min): ${loadBefore} before, ${os.loadavg()[0]!.toFixed(2)} after`);
  } finally {
    for (const close of closers.reverse()) await close();
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
