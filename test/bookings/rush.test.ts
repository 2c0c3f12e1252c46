import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { bookings, departures } from '../../src/db/schema/index.js';
import type { PaymentGateway } from '../../src/modules/payments/gateway.js';
import { createGateway } from '../../src/modules/payments/gateway-choice.js';
import { buildTestApp, TEST_ENV, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { exitCode, freePort, startServer } from '../helpers/server-process.js';
import { proxiedTestDatabase, type TcpProxy } from '../helpers/tcp-proxy.js';
import { expectConsistentBookings } from '../robustness/invariants.js';

const heldOn = async (t: TestApp, departureId: string) => {
  const [row] = await t.ctx.db.select().from(departures).where(eq(departures.id, departureId));
  return row!.seatsBooked;
};

describe('a booking rush through two server processes on a small pool', () => {
  let t: TestApp;
  const servers: { child: ChildProcess; port: number; dataDir: string }[] = [];

  beforeAll(async () => {
    t = await buildTestApp();
    // Two connections each: a crowd far larger than the pool, as 2,000 clients are for a pool of 20.
    for (let k = 0; k < 2; k++) {
      const port = await freePort();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'tour-rush-'));
      const { child } = await startServer(
        { PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: t.databaseUrl, DATABASE_POOL_MAX: '2' },
        { startTimeoutMs: 60_000 },
      );
      servers.push({ child, port, dataDir });
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) {
      const exited = exitCode(s.child);
      s.child.kill('SIGTERM');
      await exited;
      await rm(s.dataDir, { recursive: true, force: true });
    }
    await t?.close();
  });

  it('200 travellers on a 20-seat departure: 20 seats held, 180 SOLD_OUT, no 5xx, and SOLD_OUT once full', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 20 });
    const travellers: TestUser[] = [];
    for (let k = 0; k < 200; k++) travellers.push(await createUser(t.ctx));
    const book = async (traveller: TestUser, k: number) => {
      const res = await fetch(`http://127.0.0.1:${servers[k % 2]!.port}/api/v1/booking`, {
        method: 'POST',
        headers: { ...traveller.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ tour: tour.id, departure: tour.departureId, guestCount: 1 }),
      });
      return {
        status: res.status,
        body: (await res.json()) as { code?: string; data?: { booking: { _id: string } } },
      };
    };
    const answers = await Promise.all(travellers.map(book));

    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    const made = answers.filter((a) => a.status === 201);
    expect(made).toHaveLength(20);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'SOLD_OUT')).toHaveLength(180);
    expect(await heldOn(t, tour.departureId)).toBe(20);
    // Every seat held belongs to a traveller who was told so: no hold behind an error.
    const held = await t.ctx.db.select().from(bookings).where(eq(bookings.departureId, tour.departureId));
    expect(held.map((b) => b.id).sort()).toEqual(made.map((a) => a.body.data!.booking._id).sort());

    // Full now: another crowd gets SOLD_OUT on both instances, and nothing changes.
    const late = await Promise.all(travellers.slice(0, 40).map(book));
    expect(late.map((a) => [a.status, a.body.code])).toEqual(late.map(() => [409, 'SOLD_OUT']));
    expect(await heldOn(t, tour.departureId)).toBe(20);
    await expectConsistentBookings(t.ctx.db);
  }, 180_000);
});

describe('a booking that committed is never answered with an error', () => {
  let database: Awaited<ReturnType<typeof proxiedTestDatabase>>;
  let proxy: TcpProxy;
  let t: TestApp;
  let cutAfterCommit = false;

  beforeAll(async () => {
    database = await proxiedTestDatabase();
    proxy = database.proxy;
    const env = { DATABASE_URL: database.url };
    const local = createGateway(loadConfig({ ...TEST_ENV, ...env }));
    // The payment session is opened after the booking's transaction committed: the database goes away then.
    const gateway: PaymentGateway = {
      ...local,
      createSession: async (request) => {
        if (cutAfterCommit) proxy.cut();
        return local.createSession(request);
      },
    };
    t = await buildTestApp({ databaseName: database.name, env, gateway });
  });
  afterAll(async () => {
    await t?.close();
    await database?.close();
  });

  it.each([
    ['without', {}],
    ['with', { 'idempotency-key': 'rush-committed-0001' }],
  ])(
    'answers 201 with the booking %s an Idempotency-Key when the database drops right after the commit',
    async (_, key) => {
      const tour = await createTour(t.ctx, { maxGuest: 5 });
      const traveller = await createUser(t.ctx);
      cutAfterCommit = true;
      let res: Awaited<ReturnType<typeof t.app.inject>>;
      try {
        res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/booking',
          headers: { ...traveller.auth, ...key },
          payload: { tour: tour.id, departure: tour.departureId, guestCount: 2 },
        });
      } finally {
        cutAfterCommit = false;
        proxy.restore();
      }
      expect(res.statusCode).toBe(201);
      const answered = res.json().data;
      expect(answered.booking).toMatchObject({
        status: 'PENDING',
        guestCount: 2,
        departure: tour.departureId,
      });
      expect(answered.booking.payment).toMatchObject({ status: 'UNPAID' });
      expect(answered.paymentUrl).toMatch(/^http/);

      // What the traveller was told is what is stored.
      let stored: (typeof bookings.$inferSelect)[] = [];
      for (let i = 0; i < 40 && stored.length === 0; i++) {
        stored = await t.ctx.db
          .select()
          .from(bookings)
          .where(eq(bookings.id, answered.booking._id))
          .catch(() => []);
        if (stored.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ status: 'PENDING', seatsHeld: true });
      expect(await heldOn(t, tour.departureId)).toBe(2);
    },
    60_000,
  );
});

describe('a departure remembered as full', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t?.close());

  it('takes a booking at once when a cancellation in this instance frees a seat', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 1 });
    const [first, second] = [await createUser(t.ctx), await createUser(t.ctx)];
    const book = (traveller: TestUser) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/booking',
        headers: traveller.auth,
        payload: { tour: tour.id, departure: tour.departureId, guestCount: 1 },
      });
    const held = await book(first);
    expect(held.statusCode).toBe(201);
    expect((await book(second)).json().code).toBe('SOLD_OUT');

    const cancel = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${held.json().data.booking._id}/cancel`,
      headers: first.auth,
      payload: {},
    });
    expect(cancel.statusCode).toBe(200);
    const again = await book(second);
    expect(again.statusCode).toBe(201);
    expect(await heldOn(t, tour.departureId)).toBe(1);
  });
});
