import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { type ImportReport, importLegacyDump, type Refusal } from '../../src/modules/legacy-import/loader.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { writeDump } from '../helpers/legacy-dump.js';
import { readAllStats, rowsOf } from '../helpers/stats-scenario.js';
import { expectCountsExact } from '../helpers/tour-counts.js';
import { legacyWorld, PASSWORDS } from './legacy-world.js';

// A legacy dump written by the test from the Mongoose schemas (BSON as mongodump writes it, gzipped for
// some collections), imported into a fresh database, must answer the legacy routes as the legacy system
// did: same slugs, counts, amounts and statuses, the same passwords.

const now = new Date();
const clock: Clock = { now: () => now };
const world = legacyWorld(now);
const hex = (id: { toHexString(): string }) => id.toHexString();

let t: TestApp;
let dumpRoot: string;
let report: ImportReport;
const refusals: Refusal[] = [];
let admin: TestUser;

async function signIn(email: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
}

async function get(url: string, auth?: TestUser['auth']) {
  const res = await t.app.inject({ method: 'GET', url, headers: auth });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  t = await buildTestApp();
  dumpRoot = await mkdtemp(path.join(tmpdir(), 'legacy-dump-'));
  // mongodump's layout: <out>/<database>/<collection>.bson, here with bookings and payments gzipped.
  await writeDump(path.join(dumpRoot, 'tour-management'), world.collections, (name) =>
    name === 'bookings' || name === 'payments' ? 'bson.gz' : 'bson',
  );
  report = await importLegacyDump({
    db: t.ctx.db,
    clock,
    holdMinutes: 30,
    folder: dumpRoot,
    batchSize: 3,
    onRefusal: (r) => refusals.push(r),
  });
  const res = await signIn('admin@legacy.test', PASSWORDS.admin);
  expect(res.statusCode).toBe(200);
  const token = res.json().data.accessToken as string;
  admin = { auth: { authorization: `Bearer ${token}` } } as TestUser;
});

afterAll(async () => {
  await t?.close();
  if (dumpRoot) await rm(dumpRoot, { recursive: true, force: true });
});

describe('importing a mongodump of the legacy backend', () => {
  it('imports every sound record and refuses each broken one with its reason', () => {
    for (const [collection, n] of Object.entries(world.imported)) {
      expect(report.counts[collection as keyof typeof world.imported].imported, collection).toBe(n);
    }
    expect(refusals).toHaveLength(world.refused.length);
    for (const [collection, legacyId, reason] of world.refused) {
      const refusal = refusals.find((r) => r.legacyId === legacyId);
      expect(refusal, `${collection} ${legacyId}`).toBeDefined();
      expect(refusal!.collection).toBe(collection);
      expect(refusal!.reason).toContain(reason);
    }
    expect(report.refusals).toEqual(refusals);
  });

  it('keeps divisions, tour types and tours with their slugs and their external image URLs', async () => {
    const divisions = await get('/api/v1/division?sort=name');
    expect(divisions.body.data.map((d: { slug: string }) => d.slug)).toEqual([
      'chattogram-division',
      'dhaka-division',
    ]);
    const dhaka = await get('/api/v1/division/dhaka-division');
    expect(dhaka.body.data.thumbnail).toBe(world.collections.divisions[0]!.thumbnail);

    const types = await get('/api/v1/tour/tour-types?sort=name');
    expect(types.body.data.data.map((d: { name: string }) => d.name)).toEqual(['Adventure', 'Beach']);

    const tour = await get('/api/v1/tour/sundarbans-safari');
    expect(tour.status).toBe(200);
    const legacy = world.collections.tours[0]!;
    expect(tour.body.data).toMatchObject({
      title: 'Sundarbans Safari',
      slug: 'sundarbans-safari',
      images: legacy.images,
      costFrom: 1500.5,
      maxGuest: 10,
      minAge: 12,
      included: ['Boat', 'Meals'],
      startDate: (legacy.startDate as Date).toISOString(),
      endDate: (legacy.endDate as Date).toISOString(),
      // Ten seats less the paid booking's two and the pending one's one.
      availableSeats: 7,
    });
  });

  it('finds records by their legacy ObjectIds in paths and filters', async () => {
    const byDivision = await get(`/api/v1/tour?division=${hex(world.ids.chattogram)}&sort=title`);
    expect(byDivision.status).toBe(200);
    expect(byDivision.body.data.map((d: { slug: string }) => d.slug)).toEqual([
      'coxs-bazar-beach',
      'quiet-hills',
    ]);
    expect(byDivision.body.meta.total).toBe(2);
    const byType = await get(`/api/v1/tour?tourType=${hex(world.ids.beach)}`);
    expect(byType.body.data.map((d: { slug: string }) => d.slug)).toEqual(['coxs-bazar-beach']);

    const alice = await get(`/api/v1/user/${hex(world.ids.alice)}`, admin.auth);
    expect(alice.status).toBe(200);
    expect(alice.body.data).toMatchObject({ email: 'alice@legacy.test', phone: '+8801711111111' });

    const type = await get(`/api/v1/tour/tour-types/${hex(world.ids.beach)}`);
    expect(type.body.data.name).toBe('Beach');

    const booking = await get(`/api/v1/booking/${hex(world.bookings.paid.bookingId)}`, admin.auth);
    expect(booking.status).toBe(200);
    expect(booking.body.data).toMatchObject({ status: 'COMPLETE', guestCount: 2 });

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${hex(world.ids.quiet)}`,
      headers: admin.auth,
      payload: { description: 'Tea gardens and silence' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().data).toMatchObject({
      slug: 'quiet-hills',
      description: 'Tea gardens and silence',
    });
    // GET /tour/:slug takes slugs, as the legacy route did: an ObjectId there is no slug.
    expect((await get(`/api/v1/tour/${hex(world.ids.quiet)}`)).status).toBe(404);

    // An ObjectId that names nothing is refused as any unknown id, never a 500.
    const unknown = await get(`/api/v1/user/${hex(world.ids.ghostUser)}`, admin.auth);
    expect(unknown.status).toBe(404);
    const unknownFilter = await get(`/api/v1/tour?division=${hex(world.ids.ghostDivision)}`);
    expect(unknownFilter.status).toBe(400);
  });

  it('keeps every booking and payment status, amount and transaction id', async () => {
    const list = await get('/api/v1/booking?limit=100', admin.auth);
    expect(list.status).toBe(200);
    const items = list.body.data.data as {
      _id: string;
      status: string;
      guestCount: number;
      payment: { transactionId: string; amount: number; status: string } | null;
    }[];
    expect(items).toHaveLength(world.imported.bookings);
    const legacyPayments = world.collections.payments;
    for (const [name, legacyIds] of Object.entries(world.bookings)) {
      const legacyBooking = world.collections.bookings.find((b) => b._id === legacyIds.bookingId)!;
      const legacyPayment = legacyPayments.find((p) => p._id === legacyIds.paymentId);
      const { body } = await get(`/api/v1/booking/${hex(legacyIds.bookingId)}`, admin.auth);
      expect(body.data.status, name).toBe(legacyBooking.status);
      expect(body.data.guestCount, name).toBe(legacyBooking.guestCount);
      expect(body.data.createdAt, name).toBe((legacyBooking.createdAt as Date).toISOString());
      const item = items.find((i) => i._id === body.data._id)!;
      if (legacyPayment) {
        expect(item.payment, name).toMatchObject({
          transactionId: legacyPayment.transactionId,
          amount: legacyPayment.amount,
          status: legacyPayment.status,
        });
      } else expect(item.payment, name).toBeNull();
    }
  });

  it('raises an overbooked tour to the seats it sold, and reports it', async () => {
    expect(report.overbooked).toEqual([
      { legacyId: hex(world.ids.coxs), slug: 'coxs-bazar-beach', maxGuest: 3, sold: 5 },
    ]);
    const tour = await get('/api/v1/tour/coxs-bazar-beach');
    expect(tour.body.data).toMatchObject({ maxGuest: 3, availableSeats: 0 });
    const quiet = await get('/api/v1/tour/quiet-hills');
    expect(quiet.status).toBe(200);
  });

  it('signs legacy passwords in once with bcrypt, then stores them as argon2id', async () => {
    const hashOf = async (email: string) =>
      (await rowsOf(t.ctx, sql`select password_hash from users where email = ${email}`))[0]!
        .password_hash as string;
    expect(await hashOf('alice@legacy.test')).toMatch(/^\$2[aby]\$04\$/);
    expect((await signIn('alice@legacy.test', 'wrong-password')).statusCode).toBe(401);
    expect(await hashOf('alice@legacy.test')).toMatch(/^\$2[aby]\$/);
    const first = await signIn('alice@legacy.test', PASSWORDS.alice);
    expect(first.statusCode).toBe(200);
    expect(first.json().data.user).toMatchObject({ email: 'alice@legacy.test', role: 'USER' });
    expect(await hashOf('alice@legacy.test')).toMatch(/^\$argon2id\$/);
    expect((await signIn('alice@legacy.test', PASSWORDS.alice)).statusCode).toBe(200);
    // The super admin's hash was made at the legacy cost (10) and is argon2id since the sign-in above.
    expect(await hashOf('admin@legacy.test')).toMatch(/^\$argon2id\$/);
  });

  it('keeps account states and Google links', async () => {
    expect((await signIn('blocked@legacy.test', 'Blocked-Pass#1')).statusCode).toBe(403);
    expect((await signIn('deleted@legacy.test', 'Deleted-Pass#1')).statusCode).toBe(403);
    expect((await signIn('uma@legacy.test', 'Uma-Pass#1')).statusCode).toBe(401);
    const gina = await signIn('gina@gmail.test', 'anything-at-all');
    expect(gina.statusCode).toBe(401);
    expect(gina.json().message).toContain('Google');
    const links = await rowsOf(
      t.ctx,
      sql`select u.email, a.provider, a.provider_id from user_auths a join users u on u.id = a.user_id
          where u.email in ('gina@gmail.test', 'bob@legacy.test') order by u.email, a.provider`,
    );
    expect(links).toEqual([
      { email: 'bob@legacy.test', provider: 'credentials', provider_id: 'bob@legacy.test' },
      { email: 'bob@legacy.test', provider: 'google', provider_id: '100000000000000000042' },
      { email: 'gina@gmail.test', provider: 'google', provider_id: '109876543210987654321' },
    ]);
    const users = await get('/api/v1/user/all-users?limit=100', admin.auth);
    const byEmail = new Map(
      (users.body.data as { email: string }[]).map((u) => [u.email, u as Record<string, unknown>]),
    );
    expect(byEmail.get('blocked@legacy.test')).toMatchObject({ isActive: 'BLOCKED' });
    expect(byEmail.get('deleted@legacy.test')).toMatchObject({ isDeleted: true });
    expect(byEmail.get('uma@legacy.test')).toMatchObject({ isVerified: false });
    expect(byEmail.get('gina@gmail.test')).toMatchObject({
      picture: 'https://lh3.googleusercontent.com/a/gina-photo',
    });
    expect(byEmail.get('bob@legacy.test')).toMatchObject({ role: 'GUIDE' });
  });

  it('leaves statistics and kept counts equal to a rebuild from scratch', async () => {
    const maintained = (await readAllStats(t.app, admin)) as Record<string, Record<string, unknown>>;
    expect(maintained.booking!.totalBooking).toBe(world.imported.bookings);
    expect(maintained.payment!.totalRevenue).toEqual([{ _id: null, totalRevenue: 3001 + 6000 }]);
    expect(maintained.user!.totalBlockedUsers).toBe(1);
    await t.ctx.db.execute(sql`select stats_rebuild()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
    await expectCountsExact(t.ctx.db);
  });
});
