import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/migrate.js';
import { dropTestDatabase } from '../helpers/app.js';
import { databaseUrl, quoteIdent, withAdminClient } from '../helpers/postgres.js';

/**
 * The departures migration on a database that has data: tours as the legacy system sold them (one date
 * range, one seat counter), with and without dates, and bookings of them.
 */

const name = `mig_departures_${Date.now().toString(36)}`;
let client: pg.Client;

async function runMigrationFile(file: string) {
  const text = await readFile(path.join(migrationsFolder, file), 'utf8');
  for (const statement of text.split('--> statement-breakpoint')) {
    if (statement.trim()) await client.query(statement);
  }
}

const ids = {
  division: '01900000-0000-7000-8000-000000000001',
  type: '01900000-0000-7000-8000-000000000002',
  user: '01900000-0000-7000-8000-000000000003',
  dated: '01900000-0000-7000-8000-000000000010',
  undated: '01900000-0000-7000-8000-000000000011',
  booking1: '01900000-0000-7000-8000-000000000020',
  booking2: '01900000-0000-7000-8000-000000000021',
};

beforeAll(async () => {
  await withAdminClient((c) => c.query(`create database ${quoteIdent(name)}`));
  client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  const files = (await readdir(migrationsFolder)).filter((f) => f.endsWith('.sql')).sort();
  const departuresFile = files.find((f) => f.includes('_departures'))!;
  for (const file of files.filter((f) => f < departuresFile)) await runMigrationFile(file);

  await client.query(`insert into divisions (id, name, slug) values ($1, 'D', 'd')`, [ids.division]);
  await client.query(`insert into tour_types (id, name) values ($1, 'T')`, [ids.type]);
  await client.query(`insert into users (id, name, email) values ($1, 'U', 'u@example.com')`, [ids.user]);
  await client.query(
    `insert into tours (id, title, slug, cost_from_minor, start_date, end_date, max_guest, seats_booked,
       division_id, tour_type_id, created_at)
     values ($1, 'Dated', 'dated', 100000, '2030-05-01T03:00:00Z', '2030-05-03T12:00:00Z', 10, 3, $3, $4,
       '2024-01-01T00:00:00Z'),
            ($2, 'Undated', 'undated', null, null, null, null, 0, $3, $4, '2024-02-01T00:00:00Z')`,
    [ids.dated, ids.undated, ids.division, ids.type],
  );
  await client.query(
    `insert into bookings (id, user_id, tour_id, status, guest_count, unit_price_minor, amount_minor,
       hold_expires_at, seats_held)
     values ($1, $3, $4, 'COMPLETE', 3, 100000, 300000, now(), true),
            ($2, $3, $4, 'CANCEL', 1, 100000, 100000, now(), false)`,
    [ids.booking1, ids.booking2, ids.user, ids.dated],
  );
  await runMigrationFile(departuresFile);
});

afterAll(async () => {
  await client?.end();
  await dropTestDatabase(name);
});

describe('the departures migration', () => {
  it('gives each tour one SCHEDULED departure from its dates, seats and currency', async () => {
    const { rows } = await client.query(
      `select tour_id, start_date, end_date, capacity, seats_booked, price_minor, currency, status, id::text
       from departures order by tour_id`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      tour_id: ids.dated,
      start_date: new Date('2030-05-01T03:00:00Z'),
      end_date: new Date('2030-05-03T12:00:00Z'),
      capacity: 10,
      seats_booked: 3,
      price_minor: null,
      currency: 'BDT',
      status: 'SCHEDULED',
    });
    // A tour without dates gets a departure at its creation: in the past, so nothing more is sold on it.
    expect(rows[1]).toMatchObject({
      tour_id: ids.undated,
      start_date: new Date('2024-02-01T00:00:00Z'),
      end_date: new Date('2024-02-01T00:00:00Z'),
      capacity: null,
      seats_booked: 0,
    });
    // UUIDv7 ids, their time part from the tour's creation.
    for (const row of rows)
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-/);
    expect(rows[0].id.slice(0, 13).replace('-', '')).toBe(
      new Date('2024-01-01T00:00:00Z').getTime().toString(16).padStart(12, '0'),
    );
  });

  it("points every booking at its tour's departure and drops the tour's own schedule columns", async () => {
    const { rows } = await client.query(
      `select b.id, b.departure_id = d.id as matches from bookings b join departures d on d.tour_id = b.tour_id order by b.id`,
    );
    expect(rows).toEqual([
      { id: ids.booking1, matches: true },
      { id: ids.booking2, matches: true },
    ]);
    const columns = await client.query(
      `select column_name from information_schema.columns where table_name = 'tours'
       and column_name in ('start_date', 'end_date', 'seats_booked')`,
    );
    expect(columns.rows).toEqual([]);
    await expect(
      client.query(`update departures set seats_booked = 11 where tour_id = $1`, [ids.dated]),
    ).rejects.toThrow(/departures_seats_check/);
  });
});
