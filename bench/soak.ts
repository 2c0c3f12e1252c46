/**
 * Soak test: the API as a real process on a fresh PostgreSQL database, mixed traffic at a steady rate for
 * minutes (browse, sign in, book, pay on the local gateway, cancel). Every ~10 s it reports the error rate,
 * p50/p99 latency, the server's RSS, heap and open handles, and the database pool; at the end it flags
 * growth between the first and the last third of the run.
 *
 *   npm run soak                      # 3 minutes at 40 requests/s
 *   SOAK_SECONDS=600 SOAK_RATE=60 npm run soak
 *
 * Needs PostgreSQL (SOAK_ADMIN_URL or TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
 * Not part of `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createScratchDatabase } from './database.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const RATE = Number(process.env.SOAK_RATE ?? 40);
const REPORT_EVERY_MS = 10_000;
const USERS = 30;
const ADMIN_URL =
  process.env.SOAK_ADMIN_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const PORT = Number(process.env.SOAK_PORT ?? 5700 + Math.floor(Math.random() * 200));
const BASE = `http://127.0.0.1:${PORT}`;
const ADMIN = { email: 'soak-admin@soak.local', password: 'Soak-Admin-Pass-1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the server process -----------------------------------------------------------------------------

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

// ---- HTTP with measurements -------------------------------------------------------------------------

interface Sample {
  at: number;
  ms: number;
  status: number;
  action: string;
}
const samples: Sample[] = [];

async function request(
  action: string,
  method: string,
  url: string,
  options: { token?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const started = performance.now();
  try {
    const res = await fetch(`${BASE}${url}`, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    samples.push({ at: Date.now(), ms: performance.now() - started, status: res.status, action });
    return { status: res.status, body: text, headers: res.headers };
  } catch {
    samples.push({ at: Date.now(), ms: performance.now() - started, status: 0, action });
    return { status: 0, body: '', headers: new Headers() };
  }
}

const data = <T>(body: string): T => (JSON.parse(body) as { data: T }).data;

// ---- setup: users and tours -------------------------------------------------------------------------

interface Account {
  email: string;
  password: string;
  token: string;
}

async function setup(databaseUrl: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const adminLogin = await request('setup', 'POST', '/api/v1/auth/login', { json: ADMIN });
  if (adminLogin.status !== 200)
    throw new Error(`admin login failed: ${adminLogin.status} ${adminLogin.body}`);
  const adminToken = data<{ accessToken: string }>(adminLogin.body).accessToken;

  // Room for every booking of the run, so 409 SOLD_OUT does not hide real errors.
  // Tours not yet started: the demo catalogue also holds trips that already ran, which cannot be booked.
  const tours = data<{ _id: string; slug: string; startDate: string | null }[]>(
    (await request('setup', 'GET', '/api/v1/tour?limit=100&fields=slug,startDate')).body,
  ).filter((tour) => tour.startDate === null || Date.parse(tour.startDate) > Date.now());
  if (tours.length === 0) throw new Error('no demo tours');
  for (const tour of tours) {
    const res = await request('setup', 'PATCH', `/api/v1/tour/${tour._id}`, {
      token: adminToken,
      json: { maxGuest: 1_000_000 },
    });
    if (res.status !== 200) throw new Error(`could not enlarge tour: ${res.status} ${res.body}`);
  }

  const accounts: Account[] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `soak-${i}-${randomBytes(3).toString('hex')}@soak.local`;
    const password = `Soak-Pass-${randomBytes(4).toString('hex')}`;
    const reg = await request('setup', 'POST', '/api/v1/user/register', {
      json: { name: `Soak ${i}`, email, password, phone: '01712345678', address: 'Soak Road, Dhaka' },
    });
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.body}`);
    // The emailed code is not what this run measures.
    await db.query('update users set is_verified = true where email = $1', [email]);
    const login = await request('setup', 'POST', '/api/v1/auth/login', { json: { email, password } });
    accounts.push({ email, password, token: data<{ accessToken: string }>(login.body).accessToken });
  }
  await db.end();
  samples.length = 0;
  return { tours, accounts };
}

// ---- traffic ----------------------------------------------------------------------------------------

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

async function book(account: Account, tourId: string) {
  const res = await request('book', 'POST', '/api/v1/booking', {
    token: account.token,
    json: { tour: tourId, guestCount: 1 },
  });
  if (res.status !== 201) return undefined;
  return data<{ paymentUrl: string; booking: { _id: string } }>(res.body);
}

async function bookAndPay(account: Account, tourId: string) {
  const booked = await book(account, tourId);
  if (!booked) return;
  const { pathname, search } = new URL(booked.paymentUrl);
  const page = await request('payment page', 'GET', `${pathname}${search}`);
  const form = /<form method="post" action="([^"]+)">(.*?)<\/form>/s.exec(page.body);
  if (!form) return;
  const fields = Object.fromEntries(
    [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  await request('pay', 'POST', form[1]!.replace(/&amp;/g, '&'), { form: fields });
}

async function bookAndCancel(account: Account, tourId: string) {
  const booked = await book(account, tourId);
  if (!booked) return;
  await request('cancel', 'PATCH', `/api/v1/booking/${booked.booking._id}/status`, {
    token: account.token,
    json: { status: 'CANCEL' },
  });
}

function oneAction(tours: { _id: string; slug: string }[], accounts: Account[]): Promise<unknown> {
  const roll = Math.random();
  const account = pick(accounts);
  const tour = pick(tours);
  if (roll < 0.3) return request('browse', 'GET', `/api/v1/tour?page=${1 + Math.floor(Math.random() * 3)}`);
  if (roll < 0.45) return request('browse', 'GET', `/api/v1/tour/${tour.slug}`);
  if (roll < 0.55) return request('browse', 'GET', '/api/v1/division');
  if (roll < 0.6) return request('browse', 'GET', '/api/v1/tour/tour-types');
  if (roll < 0.7)
    return request('my bookings', 'GET', '/api/v1/booking/my-bookings', { token: account.token });
  if (roll < 0.75) {
    return request('sign in', 'POST', '/api/v1/auth/login', {
      json: { email: account.email, password: account.password },
    }).then((res) => {
      if (res.status === 200) account.token = data<{ accessToken: string }>(res.body).accessToken;
    });
  }
  if (roll < 0.9) return bookAndPay(account, tour._id);
  return bookAndCancel(account, tour._id);
}

// ---- reporting --------------------------------------------------------------------------------------

interface ServerStats {
  rssMb: number;
  heapMb: number;
  handles: number;
  poolTotal: number;
}

async function serverStats(): Promise<ServerStats | undefined> {
  try {
    const text = await (await fetch(`${BASE}/metrics`)).text();
    const metric = (name: string, label = '') => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(name) && l.includes(label) && !l.startsWith('#'));
      return line ? Number(line.split(' ').at(-1)) : Number.NaN;
    };
    return {
      rssMb: metric('process_resident_memory_bytes') / 2 ** 20,
      heapMb: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
      handles: metric('nodejs_active_handles_total'),
      poolTotal: metric('db_pool_connections', 'state="total"'),
    };
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface WindowReport extends ServerStats {
  t: number;
  requests: number;
  rps: number;
  errorRate: number;
  p50: number;
  p99: number;
}

function windowReport(from: number, to: number, startedAt: number, stats: ServerStats): WindowReport {
  const inWindow = samples.filter((s) => s.at >= from && s.at < to);
  const latencies = inWindow.map((s) => s.ms).sort((a, b) => a - b);
  const errors = inWindow.filter((s) => s.status === 0 || s.status >= 500).length;
  return {
    t: Math.round((to - startedAt) / 1000),
    requests: inWindow.length,
    rps: inWindow.length / ((to - from) / 1000),
    errorRate: inWindow.length ? errors / inWindow.length : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ...stats,
  };
}

const fmt = (r: WindowReport) =>
  `| ${String(r.t).padStart(4)} s | ${r.rps.toFixed(1).padStart(5)} | ${(r.errorRate * 100).toFixed(2).padStart(5)} % | ` +
  `${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ${r.rssMb.toFixed(0).padStart(4)} | ` +
  `${r.heapMb.toFixed(1).padStart(5)} | ${String(r.handles).padStart(4)} | ${String(r.poolTotal).padStart(3)} |`;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function growthFlags(reports: WindowReport[]): string[] {
  // The first window warms up (JIT, caches, pool); compare the rest's first and last thirds.
  const steady = reports.slice(1);
  if (steady.length < 3) return ['run too short to judge growth'];
  const third = Math.max(1, Math.floor(steady.length / 3));
  const first = steady.slice(0, third);
  const last = steady.slice(-third);
  const flags: string[] = [];
  const compare = (
    label: string,
    key: 'rssMb' | 'heapMb' | 'handles' | 'p99',
    limit: number,
    abs: number,
  ) => {
    const a = mean(first.map((r) => r[key]));
    const b = mean(last.map((r) => r[key]));
    const grew = b - a > abs && b > a * (1 + limit);
    flags.push(
      `${grew ? 'GROWTH' : 'ok'}: ${label} ${a.toFixed(1)} → ${b.toFixed(1)} (${(((b - a) / Math.max(a, 1e-9)) * 100).toFixed(1)} %)`,
    );
  };
  compare('RSS MB', 'rssMb', 0.2, 20);
  compare('heap MB', 'heapMb', 0.25, 10);
  compare('open handles', 'handles', 0.25, 10);
  compare('p99 ms', 'p99', 0.5, 10);
  return flags;
}

// ---- main -------------------------------------------------------------------------------------------

async function main() {
  const scratch = await createScratchDatabase(ADMIN_URL, 'soak');
  const url = scratch.url;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tour-soak-'));
  let server: ChildProcess | undefined;
  try {
    server = await startServer({
      NODE_ENV: 'development',
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      DATABASE_URL: url,
      PUBLIC_URL: BASE,
      JWT_ACCESS_SECRET: randomBytes(24).toString('hex'),
      JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
      SUPER_ADMIN_EMAIL: ADMIN.email,
      SUPER_ADMIN_PASSWORD: ADMIN.password,
      SEED_DEMO: 'true',
      RATE_LIMIT_MAX: '10000000',
      AUTH_RATE_LIMIT_MAX: '10000000',
    });
    const { tours, accounts } = await setup(url);
    console.log(
      `Soak: ${SECONDS} s at ${RATE} actions/s against ${BASE} (PostgreSQL ${scratch.name}), ${tours.length} tours, ${accounts.length} users`,
    );
    console.log('|      t |   rps |  errors | p50 ms | p99 ms | RSS MB | heap MB | handles | pool |');
    console.log('|-------:|------:|--------:|-------:|-------:|-------:|--------:|--------:|-----:|');

    const startedAt = Date.now();
    const endAt = startedAt + SECONDS * 1000;
    const pending = new Set<Promise<unknown>>();
    const reports: WindowReport[] = [];
    let windowStart = startedAt;
    let next = startedAt;
    while (Date.now() < endAt) {
      // Open-loop arrivals at a steady rate: a slow server does not slow the offered load.
      const now = Date.now();
      while (next <= now) {
        const p = oneAction(tours, accounts).finally(() => pending.delete(p));
        pending.add(p);
        next += 1000 / RATE;
      }
      if (now - windowStart >= REPORT_EVERY_MS) {
        const stats = (await serverStats()) ?? {
          rssMb: Number.NaN,
          heapMb: Number.NaN,
          handles: Number.NaN,
          poolTotal: Number.NaN,
        };
        const report = windowReport(windowStart, now, startedAt, stats);
        reports.push(report);
        console.log(fmt(report));
        windowStart = now;
      }
      await sleep(Math.max(1, Math.min(20, next - Date.now())));
    }
    await Promise.all(pending);

    const all = samples.map((s) => s.ms).sort((a, b) => a - b);
    const errors = samples.filter((s) => s.status === 0 || s.status >= 500);
    const byStatus = new Map<number, number>();
    for (const s of samples) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
    console.log(
      `\nTotal: ${samples.length} requests, ${errors.length} errors (${((errors.length / Math.max(1, samples.length)) * 100).toFixed(3)} %), ` +
        `p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms; statuses ${JSON.stringify(Object.fromEntries(byStatus))}`,
    );
    for (const flag of growthFlags(reports)) console.log(flag);

    const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    console.log(`Server stopped with exit code ${await exited}`);
    server = undefined;
  } finally {
    server?.kill('SIGKILL');
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
