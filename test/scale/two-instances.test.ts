import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema/index.js';
import { buildTestApp, createTestDatabase, dropTestDatabase, type TestApp } from '../helpers/app.js';
import { createTour, seatsBooked } from '../helpers/booking-fixtures.js';
import { createUser } from '../helpers/factories.js';
import { databaseUrl } from '../helpers/postgres.js';
import { exitCode, startServer } from '../helpers/server-process.js';

/**
 * Two real server processes on different ports share one PostgreSQL database and one Redis, as replicas
 * behind a load balancer do. Everything a user can observe must be the same whichever instance answers.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const AUTH_LIMIT = 4;
const API = '/api/v1';

interface Instance {
  child: ChildProcess;
  url: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A client address of its own per test, so Redis counters from other runs never mix in. */
const clientIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

let name: string;
let fixtures: TestApp;
const dataDirs: string[] = [];
let a: Instance;
let b: Instance;

async function startInstance(): Promise<Instance> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tour-scale-'));
  dataDirs.push(dataDir);
  const { child } = await startServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl(name),
    REDIS_URL,
    AUTH_RATE_LIMIT_MAX: String(AUTH_LIMIT),
    // No grace: any repeat of a spent refresh token is reuse.
    REFRESH_GRACE_SECONDS: '0',
    // Behind the (simulated) load balancer, the client address comes from X-Forwarded-For.
    TRUST_PROXY: 'true',
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function call(
  instance: Instance,
  method: 'GET' | 'POST',
  route: string,
  options: { ip?: string; token?: string; body?: unknown } = {},
) {
  const res = await fetch(`${instance.url}${API}${route}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      'x-forwarded-for': options.ip ?? clientIp(),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  name = await createTestDatabase();
  // An app object in this process only to write fixtures (users, sessions, tours) with the same secrets.
  fixtures = await buildTestApp({ databaseName: name });
  [a, b] = await Promise.all([startInstance(), startInstance()]);
});

afterAll(async () => {
  for (const instance of [a, b]) {
    if (instance && instance.child.exitCode === null) {
      const exited = exitCode(instance.child);
      instance.child.kill('SIGTERM');
      await exited;
    }
  }
  await fixtures?.close();
  if (name) await dropTestDatabase(name);
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

describe('two instances on one database and one Redis', () => {
  it('honours a session opened on one instance on the other, and ends it everywhere on logout', async () => {
    const user = await createUser(fixtures.ctx);
    const login = await call(a, 'POST', '/auth/login', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    const token = login.body.data.accessToken as string;

    const me = await call(b, 'GET', '/user/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.data.email).toBe(user.email);

    expect((await call(b, 'POST', '/auth/logout', { token })).status).toBe(200);
    const after = await call(a, 'GET', '/user/me', { token });
    expect(after.status).toBe(401);
  });

  it('detects a refresh token spent on instance A and replayed on instance B, and ends the session', async () => {
    const user = await createUser(fixtures.ctx);
    const rotated = await call(a, 'POST', '/auth/refresh-token', {
      body: { refreshToken: user.refreshToken },
    });
    expect(rotated.status).toBe(200);
    const successor = rotated.body.data.refreshToken as string;
    expect(successor).not.toBe(user.refreshToken);

    const replay = await call(b, 'POST', '/auth/refresh-token', {
      body: { refreshToken: user.refreshToken },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.message).toMatch(/already used/);

    // The thief's replay ended the session for everyone: the legitimate successor no longer works either.
    const legit = await call(a, 'POST', '/auth/refresh-token', { body: { refreshToken: successor } });
    expect(legit.status).toBe(401);
    expect((await call(b, 'GET', '/user/me', { token: rotated.body.data.accessToken })).status).toBe(401);
    const [row] = await fixtures.ctx.db
      .select({ revokedReason: sessions.revokedReason })
      .from(sessions)
      .where(eq(sessions.id, user.sessionId));
    expect(row?.revokedReason).toBe('refresh_token_reuse');
  });

  it('counts the per-address sign-in limit across both instances', async () => {
    const ip = clientIp();
    const attempt = (instance: Instance, k: number, from = ip) =>
      call(instance, 'POST', '/auth/login', {
        ip: from,
        // A different unknown account each time, so only the per-address limit can trigger.
        body: { email: `nobody-${k}-${randomInt(1e9)}@example.com`, password: 'Wrong-Pass-1' },
      });

    const statuses: number[] = [];
    for (let k = 0; k < AUTH_LIMIT; k += 1) statuses.push((await attempt(k % 2 === 0 ? a : b, k)).status);
    expect(statuses).toEqual(Array(AUTH_LIMIT).fill(401));

    // Each instance alone has seen only half the limit; together they have seen all of it.
    const overA = await attempt(a, AUTH_LIMIT);
    const overB = await attempt(b, AUTH_LIMIT + 1);
    expect(overA.status).toBe(429);
    expect(overB.status).toBe(429);
    // Another address is unaffected.
    expect((await attempt(b, AUTH_LIMIT + 2, clientIp())).status).toBe(401);
  });

  it('never oversells a tour when concurrent bookings are split across both instances', async () => {
    const seats = 7;
    const tour = await createTour(fixtures.ctx, { maxGuest: seats });
    const customers = await Promise.all(Array.from({ length: 12 }, () => createUser(fixtures.ctx)));
    const attempts = customers.flatMap((customer, k) =>
      [0, 1].map((n) =>
        call((k + n) % 2 === 0 ? a : b, 'POST', '/booking', {
          token: customer.accessToken,
          body: { tour: tour.id, guestCount: 1 },
        }),
      ),
    );
    const results = await Promise.all(attempts);
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(seats);
    expect(refused).toHaveLength(results.length - seats);
    for (const r of refused) expect(r.body.code).toBe('SOLD_OUT');
    expect(await seatsBooked(fixtures.ctx, tour.id)).toBe(seats);
  });
});
