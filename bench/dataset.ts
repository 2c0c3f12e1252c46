/**
 * Large, reproducible dataset for benchmarks: divisions, tour types, tours, users (with sign-in
 * methods), bookings and their payments, generated with set-based SQL on PostgreSQL.
 *
 * Every pseudo-random choice is a hash of (seed, row number, purpose), so the same seed and the same
 * `now` give the same rows, ids included. Dates are placed relative to `now` (default: the current
 * time) so that "last 7/30 days" windows and upcoming tours are always populated.
 *
 * Accounts (all share the password BENCH_PASSWORD):
 * - user1@bench.local is SUPER_ADMIN, user2..user11@bench.local are ADMIN,
 *   the next ~0.4% are GUIDE, everyone else is USER;
 * - users 1..1000 are ACTIVE, verified, not deleted and have phone and address (they can sign in and book);
 * - later users vary: ~7% INACTIVE, ~5% BLOCKED, ~3% deleted, ~8% unverified, ~20% without phone/address.
 *
 * Bookings are in every status (PENDING only on upcoming tours, created in the last 25 minutes with a
 * live hold), each with one payment whose status matches (COMPLETE→PAID, PENDING→UNPAID,
 * CANCEL→CANCELLED or REFUNDED, FAILED→FAILED). A tour's held and sold seats never exceed its
 * capacity: bookings that would overflow are recorded as FAILED. Each tour has one departure (its dates and
 * capacity), whose seats_booked is the sum of the guests of its PENDING and COMPLETE bookings.
 *
 * CLI: tsx bench/dataset.ts [--database-url URL] [--seed N] [--tours N] [--users N] [--bookings N]
 *      (defaults: DATABASE_URL, seed 42, 10000 tours, 50000 users, 100000 bookings)
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { hashPassword } from '../src/lib/passwords.js';

export const BENCH_PASSWORD = 'Bench-Pass-1!';
export const BENCH_EMAIL_DOMAIN = 'bench.local';
/** Users 1..this are always ACTIVE, verified, not deleted and bookable. */
export const BENCH_CLEAN_USERS = 1000;

export interface DatasetOptions {
  seed?: number;
  tours?: number;
  users?: number;
  bookings?: number;
  /** The instant the data is relative to (default: now). Fix it to get byte-identical data. */
  now?: Date;
  /** Apply the migrations first (default true). */
  migrate?: boolean;
}

export interface DatasetSummary {
  seed: number;
  now: string;
  divisions: number;
  tourTypes: number;
  tours: number;
  users: number;
  bookings: number;
  payments: number;
  password: string;
  superAdminEmail: string;
  adminEmails: string[];
  /** Signs in and may book (ACTIVE, verified, phone and address). */
  sampleUserEmails: string[];
  seconds: number;
}

const DIVISIONS = [
  'Dhaka',
  'Chattogram',
  'Khulna',
  'Rajshahi',
  'Barishal',
  'Sylhet',
  'Rangpur',
  'Mymensingh',
];
const TOUR_TYPES = [
  'Adventure',
  'Beach',
  'Cultural',
  'Hiking',
  'River Cruise',
  'Wildlife',
  'Historical',
  'Family',
];
const PLACES = [
  'Sajek Valley',
  "Cox's Bazar",
  'Sundarbans',
  'Srimangal',
  'Bandarban',
  'Saint Martin Island',
  'Ratargul Swamp Forest',
  'Kuakata',
  'Paharpur',
  'Rangamati',
  'Jaflong',
  'Sonargaon',
  'Mahasthangarh',
  'Tanguar Haor',
  'Nilgiri Hills',
  'Lalbagh Fort',
];
const KINDS = ['Getaway', 'Expedition', 'Retreat', 'Escape', 'Trail', 'Discovery'];

const ADMIN_COUNT = 10;
/** Tables whose rows the statistics summaries describe (migrations/0011_stats_summaries.sql). */
const SUMMARISED_TABLES = ['users', 'tours', 'bookings', 'payments', 'refunds'];

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
}

/** SQL text array literal built from trusted constants. */
const textArray = (values: string[]) => `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]`;

/**
 * Loads the dataset into an empty (or freshly migrated) PostgreSQL database. Refuses to run when the
 * database already has tours or bookings.
 */
export async function seedLargeDataset(
  databaseUrl: string,
  options: DatasetOptions = {},
): Promise<DatasetSummary> {
  const started = performance.now();
  const seed = positiveInt('seed', options.seed ?? 42, 0);
  const tourCount = positiveInt('tours', options.tours ?? 10_000, 1);
  const userCount = positiveInt('users', options.users ?? 50_000, ADMIN_COUNT + 3);
  const bookingCount = positiveInt('bookings', options.bookings ?? 100_000, 0);
  const now = options.now ?? new Date();

  if (options.migrate !== false) {
    const handle = await openDatabase({ databaseUrl, dataDir: '', poolMax: 2 });
    try {
      await runMigrations(handle);
    } finally {
      await handle.close();
    }
  }

  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-dataset' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'select (select count(*) from tours) + (select count(*) from bookings) as n',
    );
    if (Number(rows[0]!.n) > 0) throw new Error('the database already has tours or bookings');

    await client.query('begin');
    await client.query('set local synchronous_commit = off');
    await client.query(`set local timezone = 'UTC'`);
    // The statistics triggers would add a few summary rows per row loaded: they stay off during the load,
    // and stats_rebuild() computes the summaries once at the end, as the migration does on existing data.
    for (const table of SUMMARISED_TABLES) await client.query(`alter table ${table} disable trigger user`);
    for (const statement of datasetStatements(seed, tourCount, userCount, bookingCount, now)) {
      await client.query(statement, statement.includes('$1') ? [passwordHash] : []);
    }
    for (const table of SUMMARISED_TABLES) await client.query(`alter table ${table} enable trigger user`);
    await client.query('select stats_rebuild()');
    await client.query('commit');
    // Vacuum too, so index-only scans find an all-visible table, as autovacuum would leave it.
    await client.query(
      'vacuum (analyze) divisions, tour_types, tours, departures, users, user_auths, bookings, payments, ' +
        'stats_booking_days, stats_tour_bookings, stats_booking_users, stats_payment_groups, stats_revenue_days, ' +
        'stats_tour_groups, stats_user_groups',
    );
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }

  const guides = guideCount(userCount);
  const firstUser = ADMIN_COUNT + 2 + guides;
  const clean = Math.min(userCount, BENCH_CLEAN_USERS);
  return {
    seed,
    now: now.toISOString(),
    divisions: DIVISIONS.length,
    tourTypes: TOUR_TYPES.length,
    tours: tourCount,
    users: userCount,
    bookings: bookingCount,
    payments: bookingCount,
    password: BENCH_PASSWORD,
    superAdminEmail: `user1@${BENCH_EMAIL_DOMAIN}`,
    adminEmails: Array.from({ length: ADMIN_COUNT }, (_, k) => `user${k + 2}@${BENCH_EMAIL_DOMAIN}`),
    sampleUserEmails:
      clean >= firstUser
        ? Array.from(
            { length: Math.min(10, clean - firstUser + 1) },
            (_, k) => `user${firstUser + k}@${BENCH_EMAIL_DOMAIN}`,
          )
        : [],
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

const guideCount = (users: number) => Math.max(1, Math.floor(users * 0.004));

/**
 * The statements, in order. The user insert takes $1 = the shared password hash; everything else is
 * a validated integer or an ISO instant, so it is inlined.
 */
function datasetStatements(
  seed: number,
  tours: number,
  users: number,
  bookings: number,
  now: Date,
): string[] {
  if (Number.isNaN(now.getTime())) throw new Error('now must be a valid date');
  const at = `'${now.toISOString()}'::timestamptz`;
  /** Uniform in [0, 1) from (seed, row, purpose): stable across runs and machines. */
  const rnd = (row: string, salt: number) =>
    `((hashint8extended((${row})::bigint, ${seed * 1000 + salt}::bigint) & 2147483647)::float8 / 2147483648.0)`;
  /** A UUIDv7-shaped id whose time part is `ts` and whose other bits come from (seed, key). */
  const uuidV7 = (ts: string, key: string) => `(
    lpad(to_hex((extract(epoch from ${ts}) * 1000)::bigint), 12, '0') || '7' ||
    substr(md5('${seed}:' || ${key}), 1, 3) ||
    substr('89ab', (get_byte(decode(substr(md5('${seed}:' || ${key}), 4, 2), 'hex'), 0) % 4) + 1, 1) ||
    substr(md5('${seed}:' || ${key}), 6, 3) || substr(md5('${seed}:' || ${key}), 9, 12)
  )::uuid`;
  const popular = Math.max(1, Math.ceil(tours * 0.05));
  const guides = guideCount(users);
  const firstUser = ADMIN_COUNT + 2 + guides;
  const customers = users - firstUser + 1;
  const epoch = `(${at} - interval '800 days')`;

  return [
    `insert into divisions (id, name, slug, description, created_at, updated_at)
     select ${uuidV7(`${epoch} + k * interval '1 minute'`, `'d' || k`)}, name, lower(name),
            'Tours across the ' || name || ' division.',
            ${epoch} + k * interval '1 minute', ${epoch} + k * interval '1 minute'
     from unnest(${textArray(DIVISIONS)}) with ordinality as d(name, k)`,

    `insert into tour_types (id, name, created_at, updated_at)
     select ${uuidV7(`${epoch} + k * interval '1 minute'`, `'t' || k`)}, name,
            ${epoch} + k * interval '1 minute', ${epoch} + k * interval '1 minute'
     from unnest(${textArray(TOUR_TYPES)}) with ordinality as t(name, k)`,

    // Users: role by position, state varied after the first BENCH_CLEAN_USERS.
    `create temp table bench_users on commit drop as
     select i,
            case when i = 1 then 'SUPER_ADMIN' when i <= ${ADMIN_COUNT + 1} then 'ADMIN'
                 when i < ${firstUser} then 'GUIDE' else 'USER' end as role,
            case when i <= ${ADMIN_COUNT + 1} then ${epoch} + i * interval '1 hour'
                 when i < ${firstUser} then ${at} - ${rnd('i', 1)} * interval '730 days'
                 -- Customers sign up in order, so a booking can pick one who existed at its time.
                 else ${at} - interval '1 minute' - interval '730 days'
                      * (1 - (i - ${firstUser} + ${rnd('i', 1)}) / ${customers}) end as created_at,
            i <= ${BENCH_CLEAN_USERS} as clean
     from generate_series(1, ${users}) as i`,
    `alter table bench_users add column id uuid`,
    `update bench_users set id = ${uuidV7('created_at', `'u' || i`)}`,
    `insert into users (id, name, email, password_hash, role, phone, address, is_deleted, is_active,
                        is_verified, created_at, updated_at)
     select id, 'Bench User ' || i, 'user' || i || '@${BENCH_EMAIL_DOMAIN}', $1, role,
            case when clean or ${rnd('i', 2)} < 0.8 then '017' || lpad((i % 100000000)::text, 8, '0') end,
            case when clean or ${rnd('i', 2)} < 0.8 then 'House ' || (i % 97 + 1) || ', Road ' || (i % 31 + 1) || ', Dhaka' end,
            not clean and ${rnd('i', 3)} < 0.03,
            case when clean then 'ACTIVE' when ${rnd('i', 4)} < 0.07 then 'INACTIVE'
                 when ${rnd('i', 4)} < 0.12 then 'BLOCKED' else 'ACTIVE' end,
            clean or ${rnd('i', 5)} >= 0.08,
            created_at, created_at
     from bench_users`,
    `insert into user_auths (id, user_id, provider, provider_id, created_at)
     select ${uuidV7('created_at', `'a' || i`)}, id, 'credentials', 'user' || i || '@${BENCH_EMAIL_DOMAIN}', created_at
     from bench_users`,
    // Customers are numbered densely so a booking can pick one with a hash.
    `create temp table bench_customers on commit drop as
     select i - ${firstUser} + 1 as k, id, created_at from bench_users where i >= ${firstUser}`,
    `create unique index on bench_customers (k)`,

    // Tours: the first 5% are popular (more bookings, more seats); ~2% have no seat limit.
    `create temp table bench_tours on commit drop as
     select i, i <= ${popular} as popular,
            (select id from divisions order by created_at offset (floor(${rnd('i', 10)} * ${DIVISIONS.length}))::int limit 1) as division_id,
            (select id from tour_types order by created_at offset (floor(${rnd('i', 11)} * ${TOUR_TYPES.length}))::int limit 1) as tour_type_id,
            (${textArray(PLACES)})[1 + floor(${rnd('i', 12)} * ${PLACES.length})::int] as place,
            (${textArray(KINDS)})[1 + floor(${rnd('i', 13)} * ${KINDS.length})::int] as kind,
            (1500 + floor(${rnd('i', 14)} * 97)::int * 500)::bigint * 100 as cost_from_minor,
            case when ${rnd('i', 15)} < 0.02 then null
                 when i <= ${popular} then 80 + floor(${rnd('i', 16)} * 121)::int
                 else 10 + floor(${rnd('i', 16)} * 51)::int end as max_guest,
            date_trunc('day', ${at}) + (floor(${rnd('i', 17)} * 540)::int - 300) * interval '1 day'
              + interval '6 hours' as start_date,
            1 + floor(${rnd('i', 18)} * 10)::int as days
     from generate_series(1, ${tours}) as i`,
    `alter table bench_tours add column created_at timestamptz, add column id uuid`,
    `update bench_tours set created_at = least(start_date - (20 + ${rnd('i', 19)} * 100) * interval '1 day',
                                               ${at} - interval '1 day' - ${rnd('i', 20)} * interval '200 days')`,
    `alter table bench_tours add column departure_id uuid`,
    `update bench_tours set id = ${uuidV7('created_at', `'tour' || i`)},
                            departure_id = ${uuidV7('created_at', `'departure' || i`)}`,
    `create unique index on bench_tours (i)`,
    `insert into tours (id, title, slug, description, location, departure_location, arrival_location,
                        cost_from_minor, included, excluded, amenities, tour_plan,
                        max_guest, min_age, division_id, tour_type_id, created_at, updated_at)
     select t.id, t.place || ' ' || t.kind || ' ' || t.i,
            regexp_replace(lower(t.place || ' ' || t.kind), '[^a-z0-9]+', '-', 'g') || '-' || t.i,
            'A ' || t.days || '-day ' || lower(t.kind) || ' to ' || t.place || ' in the ' || d.name || ' division.',
            t.place, 'Dhaka', t.place, t.cost_from_minor,
            array['Transport', 'Hotel', 'Breakfast'], array['Lunch', 'Personal expenses'],
            array['Guide', 'Wi-Fi'], array['Day 1: departure from Dhaka', 'Last day: return to Dhaka'],
            t.max_guest, case when ${rnd('t.i', 21)} < 0.5 then null else 5 + floor(${rnd('t.i', 21)} * 14)::int end,
            t.division_id, t.tour_type_id, t.created_at, t.created_at
     from bench_tours t join divisions d on d.id = t.division_id`,
    `insert into departures (id, tour_id, start_date, end_date, capacity, currency, status, created_at, updated_at)
     select departure_id, id, start_date, start_date + days * interval '1 day', max_guest, 'BDT', 'SCHEDULED',
            created_at, created_at
     from bench_tours`,

    // Bookings: a quarter go to popular tours. PENDING only on upcoming tours, with a live hold.
    `create temp table bench_bookings on commit drop as
     with picked as (
       select i,
              case when ${rnd('i', 30)} < 0.25 then 1 + floor(${rnd('i', 31)} * ${popular})::int
                   else 1 + floor(${rnd('i', 31)} * ${tours})::int end as tour_i,
              1 + floor(power(${rnd('i', 33)}, 2) * 5)::int as guest_count,
              ${rnd('i', 34)} as r_status,
              ${rnd('i', 35)} as r_time
       from generate_series(1, ${bookings}) as i
     ), timed as (
       select p.*, t.id as tour_id, t.departure_id, t.max_guest, t.cost_from_minor,
              case when t.start_date > ${at} and p.r_status < 0.04 then 'PENDING'
                   when p.r_status < 0.70 then 'COMPLETE'
                   when p.r_status < 0.84 then 'CANCEL'
                   else 'FAILED' end as status,
              case when t.start_date > ${at} and p.r_status < 0.04
                     then ${at} - p.r_time * interval '25 minutes'
                   else t.created_at + p.r_time
                        * (least(t.start_date, ${at} - interval '40 minutes') - t.created_at)
              end as created_at
       from picked p join bench_tours t on t.i = p.tour_i
     )
     select x.i, x.tour_id, x.departure_id, x.max_guest, x.cost_from_minor, c.id as user_id, x.guest_count, x.status, x.created_at
     from timed x
     join bench_customers c on c.k = 1 + floor(${rnd('x.i', 32)} * greatest(1, least(${customers},
       floor(${customers} * (1 - extract(epoch from ${at} - x.created_at) / ${730 * 86400})))))::int`,
    // A booking made before its customer signed up cannot exist; move it to the sign-up instant.
    `update bench_bookings b set created_at = c.created_at + interval '1 minute'
     from bench_customers c where c.id = b.user_id and b.created_at < c.created_at`,
    // Seats: bookings that would take a tour past its capacity were refused (FAILED).
    `update bench_bookings b set status = 'FAILED'
     from (select i, sum(guest_count) filter (where status in ('PENDING', 'COMPLETE'))
                        over (partition by tour_id order by created_at, i) as running
           from bench_bookings) r
     where r.i = b.i and b.status in ('PENDING', 'COMPLETE') and b.max_guest is not null
       and r.running > b.max_guest`,
    `alter table bench_bookings add column id uuid`,
    `update bench_bookings set id = ${uuidV7('created_at', `'b' || i`)}`,
    `insert into bookings (id, user_id, tour_id, departure_id, status, guest_count, unit_price_minor, amount_minor,
                           currency, hold_expires_at, seats_held, created_at, updated_at)
     select id, user_id, tour_id, departure_id, status, guest_count, cost_from_minor, cost_from_minor * guest_count, 'BDT',
            created_at + interval '30 minutes', status in ('PENDING', 'COMPLETE'),
            created_at, case when status = 'PENDING' then created_at else created_at + interval '30 minutes' end
     from bench_bookings`,
    `insert into payments (id, booking_id, transaction_id, status, amount_minor, currency, gateway, gateway_data,
                           gateway_status, val_id, paid_at, invoice_key, created_at, updated_at)
     select p.id, s.id, 'tran_' || substr(md5('${seed}:tx:' || s.i), 1, 24),
            s.pstatus, s.amount, 'BDT', s.gateway,
            case when s.paid_at is not null then jsonb_build_object(
              'status', s.gstatus, 'tran_id', 'tran_' || substr(md5('${seed}:tx:' || s.i), 1, 24),
              'val_id', s.val_id, 'amount', to_char(s.amount / 100.0, 'FM999999990.00'), 'currency', 'BDT',
              'card_type', case when ${rnd('s.i', 40)} < 0.5 then 'BKASH-BKash' else 'VISA-Dutch Bangla' end,
              'tran_date', to_char(s.paid_at, 'YYYY-MM-DD HH24:MI:SS'))
            end,
            s.gstatus, s.val_id, s.paid_at,
            -- Paid bookings had their invoice issued when they were paid (rendered again on download if the
            -- file is missing), so the app's invoice catch-up job has no backlog to render during a benchmark.
            case when s.pstatus in ('PAID', 'REFUNDED') then 'invoices/' || p.id || '.pdf' end,
            s.created_at, coalesce(s.paid_at, s.created_at)
     from (
       select b.i, b.id, b.created_at, b.cost_from_minor * b.guest_count as amount,
              case when ${rnd('b.i', 41)} < 0.85 then 'sslcommerz' else 'local' end as gateway,
              case b.status when 'COMPLETE' then 'PAID' when 'PENDING' then 'UNPAID'
                            when 'CANCEL' then case when ${rnd('b.i', 42)} < 0.1 then 'REFUNDED' else 'CANCELLED' end
                            else 'FAILED' end as pstatus,
              case when b.status = 'COMPLETE' or (b.status = 'CANCEL' and ${rnd('b.i', 42)} < 0.1)
                   then b.created_at + (1 + ${rnd('b.i', 43)} * 20) * interval '1 minute' end as paid_at,
              case when b.status = 'COMPLETE' or (b.status = 'CANCEL' and ${rnd('b.i', 42)} < 0.1)
                   then case when ${rnd('b.i', 44)} < 0.9 then 'VALID' else 'VALIDATED' end
                   when b.status = 'FAILED' and ${rnd('b.i', 44)} < 0.5 then 'FAILED' end as gstatus,
              case when b.status = 'COMPLETE' or (b.status = 'CANCEL' and ${rnd('b.i', 42)} < 0.1)
                   then substr(md5('${seed}:val:' || b.i), 1, 20) end as val_id
       from bench_bookings b
     ) s
     cross join lateral (select ${uuidV7('s.created_at', `'p' || s.i`)} as id) p`,
    `update departures d set seats_booked = s.seats
     from (select departure_id, sum(guest_count)::int as seats from bench_bookings
           where status in ('PENDING', 'COMPLETE') group by departure_id) s
     where s.departure_id = d.id`,
  ];
}

function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let k = 0; k < argv.length; k += 1) {
    const key = argv[k]!;
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${key}`);
    const value = argv[k + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    args[key.slice(2)] = value;
    k += 1;
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const databaseUrl = args['database-url'] ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('pass --database-url or set DATABASE_URL (a PostgreSQL database)');
  const num = (key: string) => (args[key] === undefined ? undefined : Number(args[key]));
  const summary = await seedLargeDataset(databaseUrl, {
    seed: num('seed'),
    tours: num('tours'),
    users: num('users'),
    bookings: num('bookings'),
    now: args.now ? new Date(args.now) : undefined,
  });
  console.log(JSON.stringify(summary, null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
