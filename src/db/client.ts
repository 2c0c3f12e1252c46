import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Repository functions accept either the database or an open transaction. */
export type Executor = Database | Tx;

export interface DatabaseHandle {
  kind: 'postgres' | 'pglite';
  db: Database;
  /** Only on PostgreSQL: the pool, for metrics and raw baselines. */
  pool?: pg.Pool;
  /**
   * The database for the short transactions that hold seats, on PostgreSQL over a small pool of its own
   * (the same `db` on PGlite): in a booking rush they never queue behind the crowd's reads for a connection,
   * and the reads never queue behind them.
   */
  holdDb: Database;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  poolMax?: number;
  /** Longest a query may take on PostgreSQL (default 30 s); a bulk job on a busy server may need more. */
  queryTimeoutMs?: number;
  /**
   * How long a query may wait for a pooled connection: the request's deadline (REQUEST_TIMEOUT_MS), not a
   * shorter pool limit, so a burst that briefly takes every connection waits its turn instead of failing.
   * A database that refuses connections still fails at once.
   */
  connectWaitMs?: number;
  /** Connections of the seat-holding pool (`holdDb`); default the smaller of 4 and `poolMax`. */
  holdPoolMax?: number;
  /** Called with pool-level errors (e.g. an idle connection dropped by a restarting server). */
  onPoolError?: (err: Error) => void;
}

// BIGINT counts (count(*)) come back as strings by default; they fit in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/** The default of REQUEST_TIMEOUT_MS: callers that know the request deadline pass it. */
const DEFAULT_CONNECT_WAIT_MS = 30_000;

type PooledClient = pg.PoolClient & { release: (err?: Error | boolean) => void };

/**
 * A checked-out client whose connection ends goes back to the pool at once (which discards it). Otherwise
 * a transaction whose BEGIN hit the dead connection never releases it: the pool shrinks with every outage
 * and `pool.end()` (graceful shutdown) waits forever. Later releases by the borrower become no-ops.
 * Runs right after pg-pool sets `client.release`, before the borrower gets the client.
 */
function releaseWhenConnectionLost(client: pg.PoolClient) {
  const pooled = client as PooledClient;
  const release = pooled.release;
  let released = false;
  const onEnd = () => releaseOnce(new Error('database connection lost'));
  const releaseOnce = (err?: Error | boolean) => {
    if (released) return;
    released = true;
    client.removeListener('end', onEnd);
    release(err);
  };
  pooled.release = releaseOnce;
  client.once('end', onEnd);
}

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.databaseUrl) {
    const poolMax = opts.poolMax ?? 20;
    const openPool = (max: number, applicationName: string) => {
      const pool = new pg.Pool({
        connectionString: opts.databaseUrl,
        max,
        connectionTimeoutMillis: opts.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS,
        idleTimeoutMillis: 30_000,
        // A query that cannot finish in this time is a fault, not a slow answer.
        query_timeout: opts.queryTimeoutMs ?? 30_000,
        application_name: applicationName,
      });
      pool.on('error', (err) => opts.onPoolError?.(err));
      // A checked-out client (e.g. inside a transaction) whose connection drops emits 'error' outside any query;
      // unheard, that event would crash the process. The query that was running still fails and answers 503.
      pool.on('connect', (client) => client.on('error', (err) => opts.onPoolError?.(err)));
      pool.on('acquire', (client) => queueMicrotask(() => releaseWhenConnectionLost(client)));
      return pool;
    };
    const pool = openPool(poolMax, 'tour-booking-api');
    const holdPool = openPool(opts.holdPoolMax ?? Math.min(4, poolMax), 'tour-booking-api holds');
    const db = drizzlePg({ client: pool, schema }) as unknown as Database;
    return {
      kind: 'postgres',
      db,
      pool,
      holdDb: drizzlePg({ client: holdPool, schema }) as unknown as Database,
      ping: async () => {
        await pool.query('select 1');
      },
      close: async () => {
        await Promise.all([pool.end(), holdPool.end()]);
      },
    };
  }
  const lock = lockDataDir(opts.dataDir);
  let client: PGlite;
  try {
    client = await PGlite.create(`${opts.dataDir}/pglite`, { extensions: { pg_trgm } });
  } catch (err) {
    lock.release();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  return {
    kind: 'pglite',
    db,
    holdDb: db,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        lock.release();
      }
    },
  };
}
