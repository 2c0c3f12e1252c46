import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';
import { proxiedTestDatabase, type TcpProxy } from '../helpers/tcp-proxy.js';
import { expectConsistentBookings } from './invariants.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A GET on its own connection (no keep-alive pool), so every request reaches the server at once. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
  });
}

describe('the database stops during load', () => {
  let database: Awaited<ReturnType<typeof proxiedTestDatabase>>;
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    database = await proxiedTestDatabase();
    proxy = database.proxy;
    // Six users book again and again under load: the per-account hold limits are not what this is about.
    t = await buildTestApp({
      databaseName: database.name,
      env: { DATABASE_URL: database.url, MAX_ACTIVE_HOLDS_PER_USER: '1000', MAX_HELD_SEATS_PER_USER: '1000' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await database?.close();
  });

  it('fails fast with 503 while it is down, recovers on its own, and leaves nothing half-written', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 1000 });
    const users: TestUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await createUser(t.ctx));

    const outcomes: { status: number; ms: number; phase: string; endPhase: string }[] = [];
    let phase = 'up';
    let running = true;
    const worker = async (user: TestUser, index: number) => {
      for (let i = 0; running; i++) {
        const request =
          (i + index) % 3 === 0
            ? {
                method: 'POST' as const,
                url: '/api/v1/booking',
                headers: user.auth,
                payload: { tour: tour.id, guestCount: 1 },
              }
            : (i + index) % 3 === 1
              ? { method: 'GET' as const, url: '/api/v1/tour' }
              : { method: 'GET' as const, url: '/api/v1/booking/my-bookings', headers: user.auth };
        const started = Date.now();
        const at = phase;
        const res = await t.app.inject(request);
        outcomes.push({ status: res.statusCode, ms: Date.now() - started, phase: at, endPhase: phase });
        if (res.statusCode >= 500) {
          expect(res.json(), `${request.method} ${request.url}`).toMatchObject({
            success: false,
            code: 'SERVICE_UNAVAILABLE',
          });
          expect(res.headers['retry-after']).toBeDefined();
        }
      }
    };
    const load = users.map((u, i) => worker(u, i));

    // Phase changes wait for enough answers rather than a fixed time, so a slow machine sees the same test.
    const answered = async (p: string, count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (
        outcomes.filter((o) => o.phase === p && o.endPhase === p).length < count &&
        Date.now() < deadline
      ) {
        await sleep(50);
      }
    };
    await answered('up', 12, 20_000);
    phase = 'down';
    proxy.cut();
    await sleep(300);
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    await sleep(1500);
    phase = 'back';
    proxy.restore();
    await sleep(1000);
    await answered('back', 30, 20_000);
    running = false;
    await Promise.all(load);

    // Requests wholly inside one phase; those the cut caught in flight may fail (with a 503).
    const statuses = (p: string) =>
      outcomes.filter((o) => o.phase === p && o.endPhase === p).map((o) => o.status);
    expect(statuses('up').length).toBeGreaterThan(10);
    expect(statuses('up').every((s) => s < 400)).toBe(true);
    // While it was down: only 503s (or answers that needed no database), never a 500, never a hang.
    expect(statuses('down')).toContain(503);
    expect(outcomes.filter((o) => o.status >= 500 && o.status !== 503)).toEqual([]);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(5000);
    // Back: it recovered without a restart.
    const lastBack = outcomes.filter((o) => o.phase === 'back').slice(-10);
    expect(lastBack.length).toBe(10);
    expect(lastBack.every((o) => o.status < 400)).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

    await expectConsistentBookings(t.ctx.db);
    // No connection was lost track of: everything checked out was given back (else close() would hang).
    const pool = t.database.pool!;
    expect(pool.totalCount - pool.idleCount, 'connections still checked out').toBe(0);
  });
});

describe('SIGTERM under load', () => {
  let database: Awaited<ReturnType<typeof proxiedTestDatabase>>;
  let dataDir: string;

  beforeAll(async () => {
    database = await proxiedTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'tour-sigterm-'));
  });
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes every in-flight request and exits 0', async () => {
    const port = await freePort();
    const { child, output } = await startServer({
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      SEED_DEMO: 'false',
      // Arrivals are logged at debug level.
      LOG_LEVEL: 'debug',
    });
    const exited = exitCode(child);
    const base = `http://127.0.0.1:${port}`;
    // A lock on the tours table holds every tour request inside the server, provably in flight.
    const locker = new pg.Client({ connectionString: database.directUrl });
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table tours in access exclusive mode');
    const inFlight = Array.from({ length: 8 }, (_, i) => get(`${base}/api/v1/tour?page=${i + 1}`));
    // Every request has reached the server (it logs each one as it comes in) and waits on the lock.
    const received = () => output().split('"msg":"incoming request"').length - 1;
    for (let i = 0; i < 200 && received() < 8; i++) await sleep(50);
    expect(received()).toBe(8);

    child.kill('SIGTERM');
    await sleep(300);
    await locker.query('commit');
    await locker.end();
    const results = await Promise.all(inFlight);
    expect(
      results.filter((r) => r.status !== 200),
      output(),
    ).toEqual([]);
    expect(await exited).toBe(0);
  });
});
