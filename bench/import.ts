/**
 * The legacy import on a large generated dump (npm run bench:import).
 *
 * For each scale in BENCH_IMPORT_SCALES (default `0.1,1`; 1 = 100k users, 10k tours, 1M bookings with a
 * payment each), writes a mongodump-style BSON dump to a temporary folder (streamed: the generator never
 * holds a collection), creates a fresh PostgreSQL database next to BENCH_DATABASE_URL, runs
 * `npm run import:legacy` on it as its own process, as an operator would, and records its wall time and
 * peak RSS. Memory should not grow with the dump: the import streams documents and loads them in batches.
 * Writes the "## Legacy import" section of docs/BENCHMARKS.md and drops the databases. Not part of CI.
 *   BENCH_IMPORT_SCALES=0.05,0.2 npm run bench:import   (a quicker run on a busy machine)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { ObjectId } from 'bson';
import pg from 'pg';
import { type LegacyDoc, writeCollection } from '../test/helpers/legacy-dump.js';
import { benchAdminUrl, createScratchDatabase } from './database.js';

const DOC = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FULL = { users: 100_000, tours: 10_000, bookings: 1_000_000 };
const DIVISIONS = 8;
const TOUR_TYPES = 10;

interface Sizes {
  users: number;
  tours: number;
  bookings: number;
}

interface Run extends Sizes {
  scale: number;
  dumpBytes: number;
  generateSeconds: number;
  importSeconds: number;
  peakMiB: number;
  imported: number;
}

/** ObjectIds made from a counter, so references can be computed without remembering the ids. */
const oid = (kind: number, n: number) =>
  new ObjectId(`${kind.toString(16).padStart(8, '0')}${n.toString(16).padStart(16, '0')}`);

const BOOKING_STATUSES = ['COMPLETE', 'COMPLETE', 'COMPLETE', 'PENDING', 'CANCEL', 'FAILED'] as const;
const PAYMENT_OF = { COMPLETE: 'PAID', PENDING: 'UNPAID', CANCEL: 'CANCELLED', FAILED: 'FAILED' } as const;

async function writeDump(dir: string, sizes: Sizes): Promise<number> {
  const base = Date.UTC(2024, 0, 1);
  const day = 86_400_000;
  const hash = bcrypt.hashSync('Legacy-Pass#1', 4);
  const files = [
    await writeCollection(
      dir,
      'divisions',
      (function* () {
        for (let i = 0; i < DIVISIONS; i++) {
          yield {
            _id: oid(1, i),
            name: `Division ${i}`,
            slug: `division-${i}-division`,
            thumbnail: `https://res.cloudinary.com/x/d${i}.jpg`,
          };
        }
      })(),
      'bson',
    ),
    await writeCollection(
      dir,
      'tourtypes',
      (function* () {
        for (let i = 0; i < TOUR_TYPES; i++) yield { _id: oid(2, i), name: `Type ${i}` };
      })(),
      'bson',
    ),
    await writeCollection(
      dir,
      'users',
      (function* (): Generator<LegacyDoc> {
        for (let i = 0; i < sizes.users; i++) {
          const email = `user${i}@legacy.bench`;
          yield {
            _id: oid(3, i),
            name: `User ${i}`,
            email,
            password: hash,
            role: i === 0 ? 'SUPER_ADMIN' : 'USER',
            phone: '01711111111',
            address: 'Dhaka',
            isVerified: true,
            isActive: i % 100 === 7 ? 'BLOCKED' : 'ACTIVE',
            isDeleted: false,
            auths: [{ provider: 'credentials', providerId: email }],
            createdAt: new Date(base + (i % 600) * day),
            updatedAt: new Date(base + (i % 600) * day),
          };
        }
      })(),
      'bson',
    ),
    await writeCollection(
      dir,
      'tours',
      (function* (): Generator<LegacyDoc> {
        for (let i = 0; i < sizes.tours; i++) {
          yield {
            _id: oid(4, i),
            title: `Tour ${i}`,
            slug: `tour-${i}`,
            description: 'A generated tour',
            location: `Place ${i % 50}`,
            images: [`https://res.cloudinary.com/x/t${i}.jpg`],
            costFrom: 1000 + (i % 20) * 250,
            startDate: new Date(base + (700 + (i % 60)) * day),
            endDate: new Date(base + (703 + (i % 60)) * day),
            maxGuest: 200,
            division: oid(1, i % DIVISIONS),
            tourType: oid(2, i % TOUR_TYPES),
            createdAt: new Date(base + (i % 300) * day),
            updatedAt: new Date(base + (i % 300) * day),
          };
        }
      })(),
      'bson',
    ),
    await writeCollection(
      dir,
      'bookings',
      (function* (): Generator<LegacyDoc> {
        for (let i = 0; i < sizes.bookings; i++) {
          const at = new Date(base + (i % 700) * day);
          yield {
            _id: oid(5, i),
            user: oid(3, (i * 7) % sizes.users),
            tour: oid(4, i % sizes.tours),
            payment: oid(6, i),
            guestCount: 1 + (i % 3),
            status: BOOKING_STATUSES[i % BOOKING_STATUSES.length],
            createdAt: at,
            updatedAt: at,
          };
        }
      })(),
      'bson',
    ),
    await writeCollection(
      dir,
      'payments',
      (function* (): Generator<LegacyDoc> {
        for (let i = 0; i < sizes.bookings; i++) {
          const status = PAYMENT_OF[BOOKING_STATUSES[i % BOOKING_STATUSES.length]!];
          yield {
            _id: oid(6, i),
            booking: oid(5, i),
            transactionId: `tran_${base + i}_${i % 1000}`,
            status,
            amount: (1000 + ((i % sizes.tours) % 20) * 250) * (1 + (i % 3)),
            ...(status === 'PAID' && { paymentGatewayData: { status: 'VALID', val_id: `v${i}` } }),
          };
        }
      })(),
      'bson',
    ),
  ];
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  return bytes;
}

/** Runs the import as `npm run import:legacy` does and reads its closing line (time and peak RSS). */
function runImport(folder: string, databaseUrl: string): Promise<{ seconds: number; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/modules/legacy-import/cli.ts', '--from', folder],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'development' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const match = /Took ([\d.]+) s; peak memory \(RSS\) (\d+) MiB/.exec(out);
      if (code !== 0 || !match) reject(new Error(`the import exited with ${code}`));
      else resolve({ seconds: Number(match[1]), peakMiB: Number(match[2]) });
    });
  });
}

async function count(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from bookings');
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

async function measure(scale: number): Promise<Run> {
  const sizes = {
    users: Math.max(10, Math.round(FULL.users * scale)),
    tours: Math.max(10, Math.round(FULL.tours * scale)),
    bookings: Math.max(10, Math.round(FULL.bookings * scale)),
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-legacy-dump-'));
  const database = await createScratchDatabase(benchAdminUrl(), 'bench_import');
  try {
    console.log(`scale ${scale}: writing a dump of ${JSON.stringify(sizes)}`);
    const generated = performance.now();
    const dumpBytes = await writeDump(path.join(dir, 'legacy'), sizes);
    const generateSeconds = (performance.now() - generated) / 1000;
    const { seconds, peakMiB } = await runImport(dir, database.url);
    const imported = await count(database.url);
    if (imported !== sizes.bookings) throw new Error(`imported ${imported} of ${sizes.bookings} bookings`);
    return { scale, ...sizes, dumpBytes, generateSeconds, importSeconds: seconds, peakMiB, imported };
  } finally {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

function section(runs: Run[]): string {
  const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
  const rows = runs.map(
    (r) =>
      `| ${r.scale} | ${r.users.toLocaleString('en')} / ${r.tours.toLocaleString('en')} / ${r.bookings.toLocaleString('en')} | ${mib(r.dumpBytes)} MiB | ${r.importSeconds.toFixed(0)} s | ${Math.round(r.bookings / r.importSeconds).toLocaleString('en')} | ${r.peakMiB} MiB |`,
  );
  return [
    '## Legacy import',
    '',
    `\`npm run bench:import\` (bench/import.ts), ${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
    'A generated mongodump (BSON; users, tours, bookings each with a payment) imported into a fresh PostgreSQL',
    'database by `npm run import:legacy` in its own process: time from start to commit (migrations included) and',
    "that process's peak RSS. Bookings per second counts bookings and their payments together.",
    '',
    '| scale | users / tours / bookings | dump | import | bookings/s | peak RSS |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

async function writeSection(text: string) {
  let doc = await readFile(DOC, 'utf8');
  const start = doc.search(/^## Legacy import\s*$/m);
  if (start === -1) doc = `${doc.trimEnd()}\n\n${text}`;
  else {
    const rest = doc.slice(start + 1);
    const next = rest.search(/^## /m);
    doc = doc.slice(0, start) + text + (next === -1 ? '' : `\n${rest.slice(next + 1 - 1)}`);
  }
  await writeFile(DOC, `${doc.trimEnd()}\n`);
}

const scales = (process.env.BENCH_IMPORT_SCALES ?? '0.1,1').split(',').map(Number);
if (scales.some((s) => !(s > 0 && s <= 10)))
  throw new Error('BENCH_IMPORT_SCALES: fractions of the full size, e.g. 0.1,1');
const runs: Run[] = [];
for (const scale of scales) runs.push(await measure(scale));
const text = section(runs);
console.log(`\n${text}`);
await writeSection(text);
