/**
 * Latency of the admin statistics endpoints on a large database (npm run bench:stats).
 *
 * Creates a fresh PostgreSQL database next to BENCH_DATABASE_URL (an admin connection, default
 * postgres://postgres@127.0.0.1:5432/postgres), loads the seeded dataset (bench/dataset.ts: 10k tours,
 * 50k users, 100k bookings with payments), starts the app on a free port, signs an admin in, warms up,
 * then times sequential requests to each endpoint and writes the figures to the "## Stats" section of
 * docs/BENCHMARKS.md. The database is dropped at the end.
 *
 * Settings: BENCH_REQUESTS (default 200 per endpoint), BENCH_WARMUP (default 20), BENCH_SEED (42),
 * BENCH_TOURS, BENCH_USERS, BENCH_BOOKINGS (dataset size). Not part of CI. The 1M-booking run:
 *   BENCH_TOURS=100000 BENCH_USERS=500000 BENCH_BOOKINGS=1000000 npm run bench:stats
 * (about ten minutes of dataset load on a busy 2-core machine; the section records the load time).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { users } from '../src/db/schema/index.js';
import { startSession } from '../src/modules/auth/sessions.js';
import { benchAdminUrl, createScratchDatabase, datasetSizesFromEnv, intEnv } from './database.js';
import { seedLargeDataset } from './dataset.js';

const TARGET_MS = 50;
const ENDPOINTS = ['user', 'tour', 'booking', 'payment'] as const;
const DOC = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));

interface Figures {
  endpoint: string;
  requests: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (n: number) => n.toFixed(1);

async function timeEndpoint(url: string, authorization: string, requests: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let k = 0; k < requests; k += 1) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization } });
    const body = await res.text();
    latencies.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
  }
  return latencies;
}

/** Replaces (or appends) the "## Stats" section, leaving the rest of the file as it is. */
async function writeStatsSection(section: string) {
  let doc: string;
  try {
    doc = await readFile(DOC, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const start = doc.search(/^## Stats\s*$/m);
  if (start === -1) {
    doc = `${doc.trimEnd()}\n\n${section}`;
  } else {
    const rest = doc.slice(start + 1);
    const next = rest.search(/^## /m);
    doc = doc.slice(0, start) + section + (next === -1 ? '' : `\n${rest.slice(next)}`);
  }
  await writeFile(DOC, `${doc.trimEnd()}\n`);
}

async function main() {
  const requests = Math.max(1, intEnv('BENCH_REQUESTS', 200));
  const warmup = intEnv('BENCH_WARMUP', 20);
  const sizes = datasetSizesFromEnv();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-stats-'));

  const scratch = await createScratchDatabase(benchAdminUrl(), 'bench_stats');
  try {
    console.log(`loading dataset into ${scratch.name} ...`);
    const summary = await seedLargeDataset(scratch.url, sizes);
    console.log(`dataset loaded in ${summary.seconds} s`);

    const config = loadConfig({
      // Not 'production': that demands gateway and mail credentials the benchmark has no use for.
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      JWT_ACCESS_SECRET: randomBytes(24).toString('hex'),
      JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
      SUPER_ADMIN_PASSWORD: summary.password,
      FRONTEND_URL: 'http://localhost:3000',
      SEED_DEMO: 'false',
      RATE_LIMIT_MAX: '1000000',
      METRICS_ENABLED: 'false',
    });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir, poolMax: 20 });
    const app = await buildApp({ config, database, runJobs: false, logger: false });
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const adminEmail = summary.adminEmails[0]!;
      const [admin] = await database.db
        .select({ id: users.id, email: users.email, role: users.role })
        .from(users)
        .where(eq(users.email, adminEmail));
      if (!admin) throw new Error(`${adminEmail} is missing from the dataset`);
      const { accessToken } = await startSession(
        database.db,
        app.ctx,
        admin,
        { userAgent: 'bench' },
        new Date(),
      );
      const authorization = `Bearer ${accessToken}`;
      const [{ server_version: pgVersion } = { server_version: '?' }] = (
        await database.pool!.query<{ server_version: string }>('show server_version')
      ).rows;

      const loadBefore = os.loadavg()[0]!;
      const figures: Figures[] = [];
      // GET /health first: the cost of an HTTP round trip on this machine at this moment, for scale.
      for (const endpoint of ['/health', ...ENDPOINTS.map((e) => `/api/v1/stats/${e}`)]) {
        const url = `${address}${endpoint}`;
        await timeEndpoint(url, authorization, warmup);
        const sorted = (await timeEndpoint(url, authorization, requests)).sort((a, b) => a - b);
        const f = {
          endpoint,
          requests,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          max: sorted.at(-1)!,
          mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
        };
        figures.push(f);
        console.log(`${endpoint}: p50 ${ms(f.p50)} ms, p99 ${ms(f.p99)} ms, max ${ms(f.max)} ms`);
      }

      const loadAfter = os.loadavg()[0]!;
      const cpus = os.cpus();
      const stats = figures.filter((f) => f.endpoint.startsWith('/api/v1/stats/'));
      const allUnder = stats.every((f) => f.p99 < TARGET_MS);
      const section = [
        '## Stats',
        '',
        `Written by \`npm run bench:stats\` (bench/stats.ts) on ${new Date().toISOString().slice(0, 10)}.`,
        '',
        `- Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ` +
          `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}`,
        `- Node ${process.version}, PostgreSQL ${pgVersion} (same machine), pool of 20 connections`,
        `- Load average (1 min) ${loadBefore.toFixed(2)} before and ${loadAfter.toFixed(2)} after the ` +
          'measurements: the machine is shared, so other work shows in the tail latencies',
        `- Dataset (bench/dataset.ts, seed ${summary.seed}): ${summary.tours} tours, ${summary.users} users, ` +
          `${summary.bookings} bookings with ${summary.payments} payments, loaded in ${summary.seconds} s`,
        `- Method: app listening on a local port, ${warmup} warm-up requests, then ${requests} sequential ` +
          'requests per endpoint as an ADMIN over HTTP (fetch); latency from request to full body',
        '',
        '| endpoint | requests | p50 ms | p99 ms | max ms | mean ms |',
        '|---|---:|---:|---:|---:|---:|',
        ...figures.map(
          (f) =>
            `| GET ${f.endpoint}${f.endpoint === '/health' ? ' (baseline: no auth, no query)' : ''} | ${f.requests} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.max)} | ${ms(f.mean)} |`,
        ),
        '',
        `Target: every stats call under ${TARGET_MS} ms. ${
          allUnder ? `Met: every p99 is under ${TARGET_MS} ms.` : `**Missed** by at least one endpoint's p99.`
        }`,
        '',
        'How: each endpoint runs a few queries concurrently on the pool. Figures that grow with users, tours, ' +
          'bookings and payments come from the stats_* summaries (migration 0011), which triggers keep exact ' +
          'in the writing transactions and a background job folds; the rolling 7/30-day windows add the part ' +
          'of their first day from an index range scan, and the upcoming departures read their own bookings. ' +
          'No rows are loaded into the application. `tsx bench/explain-stats.ts --database-url URL --plans` ' +
          'shows the plan and time of every statistics query on a loaded database.',
        '',
        `The dataset is reusable (\`seedLargeDataset(url, { seed, tours, users, bookings })\` or ` +
          '`tsx bench/dataset.ts --database-url URL`): every account has the password ' +
          `\`${summary.password}\`; ${summary.superAdminEmail} is SUPER_ADMIN, user2..user11@bench.local are ` +
          'ADMIN, and users 1..1000 are active, verified and able to book. See the header of bench/dataset.ts.',
        '',
      ].join('\n');
      await writeStatsSection(section);
      console.log(`figures written to ${path.relative(process.cwd(), DOC)}`);
    } finally {
      await app.close();
      await database.close();
    }
  } finally {
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
