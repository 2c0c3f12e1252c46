import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Server-level PostgreSQL URL the benchmark scripts create their scratch databases with. */
export const benchAdminUrl = (): string =>
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

/** A non-negative integer setting from the environment, with a clear error when it is not one. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

/** Dataset sizes for bench/dataset.ts, overridable with BENCH_SEED, BENCH_TOURS, BENCH_USERS, BENCH_BOOKINGS. */
export const datasetSizesFromEnv = () => ({
  seed: intEnv('BENCH_SEED', 42),
  tours: intEnv('BENCH_TOURS', 10_000),
  users: intEnv('BENCH_USERS', 50_000),
  bookings: intEnv('BENCH_BOOKINGS', 100_000),
});

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database named `<prefix>_<time>_<random>` on the server of `adminUrl`. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const quoted = `"${name.replace(/"/g, '""')}"`;
  await withAdmin(adminUrl, (c) => c.query(`create database ${quoted}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`drop database if exists ${quoted} with (force)`)).then(() => {}),
  };
}

/**
 * The production settings the app is measured with, in `npm run bench` and bench/request-cost.ts alike: metrics
 * on, the local gateway (booking creation without a network call to SSLCommerz), and every limiter far above
 * what a run sends, so they count but never answer 429.
 */
export function benchAppEnv(options: {
  publicUrl: string;
  databaseUrl: string;
  dataDir: string;
  superAdmin: { superAdminEmail: string; password: string };
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: options.publicUrl,
    DATABASE_URL: options.databaseUrl,
    DATA_DIR: options.dataDir,
    JWT_ACCESS_SECRET: randomBytes(24).toString('hex'),
    JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
    // Production serves metrics only with a token: the app is measured with them on.
    METRICS_TOKEN: randomBytes(24).toString('hex'),
    SUPER_ADMIN_EMAIL: options.superAdmin.superAdminEmail,
    SUPER_ADMIN_PASSWORD: options.superAdmin.password,
    FRONTEND_URL: 'http://localhost:3000',
    SEED_DEMO: 'false',
    ALLOW_LOCAL_GATEWAY: 'true',
    RATE_LIMIT_MAX: '100000000',
    AUTH_RATE_LIMIT_MAX: '100000000',
    // Each bench user books many times: the per-account hold limits would answer 429 instead of measuring.
    MAX_ACTIVE_HOLDS_PER_USER: '100000000',
    MAX_HELD_SEATS_PER_USER: '100000000',
  };
}
