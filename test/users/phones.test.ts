import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/migrate.js';
import { buildTestApp, dropTestDatabase, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { bookThroughApi, payOnLocalGateway } from '../helpers/populated-world.js';
import { databaseUrl, quoteIdent, withAdminClient } from '../helpers/postgres.js';

// Phone numbers used to be stored as typed, so one manifest listed `01712...` and `+8801712...` for the same
// kind of number. They are stored in E.164 now, whichever accepted form was typed.
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
});
afterAll(() => t?.close());

const uniqueEmail = () => `phone-${Math.random().toString(36).slice(2)}@example.com`;

const register = (phone: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/user/register',
    payload: { name: 'Nusrat Jahan', email: uniqueEmail(), password: 'Sundarban-Trip-2026', phone },
  });

const setPhone = (user: TestUser, phone: string) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/user/${user.id}`,
    headers: user.auth,
    payload: { phone, address: 'House 12, Road 5, Dhanmondi, Dhaka' },
  });

describe('phone numbers are kept in E.164', () => {
  it.each([
    ['01712345678', '+8801712345678'],
    ['+8801712345678', '+8801712345678'],
    ['8801812345678', '+8801812345678'],
    ['+880 1912-345678', '+8801912345678'],
    ['  01312 345 678 ', '+8801312345678'],
  ])('registering with %j stores %s', async (typed, stored) => {
    const res = await register(typed);
    expect(res.statusCode).toBe(201);
    expect(res.json().data.phone).toBe(stored);
  });

  it('a profile update stores the number the same way, for its owner and for an admin', async () => {
    const user = await createUser(t.ctx, { phone: null });
    const own = await setPhone(user, '01712345678');
    expect(own.statusCode).toBe(201);
    expect(own.json().data.phone).toBe('+8801712345678');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/user/me', headers: user.auth });
    expect(me.json().data.phone).toBe('+8801712345678');

    const byAdmin = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/user/${user.id}`,
      headers: admin.auth,
      payload: { phone: '018-1234-5678' },
    });
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.json().data.phone).toBe('+8801812345678');
  });

  it.each([
    ['a landline', '+8802712345678'],
    ['too short', '0171234567'],
    ['too long', '017123456789'],
    ['no operator has that prefix', '01012345678'],
    ['another country', '+447911123456'],
    ['letters', '01712ABCDEF'],
    ['a very long text', `0171${'2'.repeat(200)}`],
  ])('%s is a 400 naming phone, and nothing is stored', async (_label, typed) => {
    const user = await createUser(t.ctx, { phone: null, address: null });
    const res = await setPhone(user, typed);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      errorSources: [{ path: 'phone', message: expect.stringContaining('Bangladesh mobile number') }],
    });
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/user/me', headers: user.auth });
    expect(me.json().data).toMatchObject({ phone: null, address: null });
  });

  it("a departure's manifest lists every traveller's number in one form, however each typed it", async () => {
    const tour = await createTour(t.ctx);
    const typed = ['01712345678', '+8801812345678', '+880 1912 345678'];
    for (const phone of typed) {
      const traveller = await createUser(t.ctx, { phone: null, address: null });
      expect((await setPhone(traveller, phone)).statusCode).toBe(201);
      const booked = await bookThroughApi(t.app, traveller, tour.id, 1);
      expect(await payOnLocalGateway(t.app, booked.paymentUrl)).toBe(302);
    }
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/departures/${tour.departureId}/manifest`,
      headers: admin.auth,
    });
    expect(res.statusCode).toBe(200);
    const phones = res.json().data.bookings.map((b: { phone: string }) => b.phone);
    expect(phones.sort()).toEqual(['+8801712345678', '+8801812345678', '+8801912345678']);
  });
});

describe('numbers stored before', () => {
  const name = `mig_phones_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  let upgraded: TestApp | undefined;
  afterAll(async () => {
    await upgraded?.close();
    await dropTestDatabase(name);
  });

  it('are rewritten to E.164 by the migration; other values are left alone', async () => {
    await withAdminClient((c) => c.query(`create database ${quoteIdent(name)}`));
    const client = new pg.Client({ connectionString: databaseUrl(name) });
    await client.connect();
    const files = (await readdir(migrationsFolder)).filter((f) => f.endsWith('.sql')).sort();
    const phonesFile = files.find((f) => f.includes('_phones_e164'))!;
    const run = async (file: string) => {
      const text = await readFile(path.join(migrationsFolder, file), 'utf8');
      // One transaction per file, as the migrator runs them (some take table locks).
      await client.query('begin');
      for (const statement of text.split('--> statement-breakpoint')) {
        if (statement.trim()) await client.query(statement);
      }
      await client.query('commit');
    };
    try {
      for (const file of files.filter((f) => f < phonesFile)) await run(file);
      // As the API kept them: either accepted form, or none.
      await client.query(
        `insert into users (id, name, email, phone) values
           ('01900000-0000-7000-8000-000000000101', 'National', 'national@example.com', '01712345678'),
           ('01900000-0000-7000-8000-000000000102', 'International', 'international@example.com', '+8801812345678'),
           ('01900000-0000-7000-8000-000000000103', 'None', 'none@example.com', null),
           ('01900000-0000-7000-8000-000000000104', 'Odd', 'odd@example.com', 'call the office')`,
      );
      for (const file of files.filter((f) => f >= phonesFile)) await run(file);
    } finally {
      await client.end();
    }

    upgraded = await buildTestApp({ databaseName: name });
    const superAdmin = await createUser(upgraded.ctx, { role: 'SUPER_ADMIN' });
    const res = await upgraded.app.inject({
      method: 'GET',
      url: '/api/v1/user/all-users?limit=100&fields=email,phone',
      headers: superAdmin.auth,
    });
    expect(res.statusCode).toBe(200);
    const phoneOf = Object.fromEntries(
      res.json().data.map((u: { email: string; phone: string | null }) => [u.email, u.phone]),
    );
    expect(phoneOf).toMatchObject({
      'national@example.com': '+8801712345678',
      'international@example.com': '+8801812345678',
      'none@example.com': null,
      'odd@example.com': 'call the office',
    });
  });
});
