import { type AnyColumn, fillPlaceholders, type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Database } from './client.js';

/** A query Drizzle built (a select, before `.prepare`); only its SQL text and parameters are used. */
export interface BuiltQuery {
  toSQL(): { sql: string; params: unknown[] };
}

/** Runs the statement with values for its placeholders; the rows come back as the driver parsed them. */
export type RowsQuery<Row> = (values?: Record<string, unknown>) => Promise<Row[]>;

interface EmbeddedClient {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/**
 * A query built with Drizzle and run through the driver itself: on PostgreSQL as a named prepared statement
 * (parsed and planned once per connection) when `name` is given, on PGlite (one embedded connection) as a
 * plain statement. The rows skip Drizzle's per-column mapping, so the select list must name and shape every
 * column the way the caller reads it (aliases, instants as ISO text, numbers that the driver parses as
 * numbers). The SQL is rendered once, here, not per call.
 */
export function preparedRows<Row>(db: Database, name: string | undefined, query: BuiltQuery): RowsQuery<Row> {
  const { sql: text, params } = query.toSQL();
  const client = (db as unknown as { $client: unknown }).$client;
  if (client instanceof pg.Pool) {
    return async (values = {}) =>
      (await client.query<Row & pg.QueryResultRow>({ name, text, values: fillPlaceholders(params, values) }))
        .rows;
  }
  const embedded = client as EmbeddedClient;
  return async (values = {}) => (await embedded.query<Row>(text, fillPlaceholders(params, values))).rows;
}

/**
 * The query's rows as one `json` value each (`row_to_json` over the query, its order kept): the driver then
 * parses one column a row with the native `JSON.parse` instead of a parser per column (text arrays among
 * them). The values keep their types: numbers are written by PostgreSQL as the shortest text that reads back
 * as the same float8, instants must already be text, nested `jsonb` stays as it is.
 */
export function asJsonRows(query: BuiltQuery): BuiltQuery {
  return {
    toSQL() {
      const { sql: text, params } = query.toSQL();
      return { sql: `select row_to_json(r) as r from (${text}) r`, params };
    },
  };
}

/** `preparedRows` of a query wrapped by `asJsonRows`: each row is the parsed object. */
export function preparedJsonRows<Row>(
  db: Database,
  name: string | undefined,
  query: BuiltQuery,
): RowsQuery<Row> {
  const rows = preparedRows<{ r: Row }>(db, name, query);
  return async (values) => (await rows(values)).map((row) => row.r);
}

/**
 * An instant as `Date.prototype.toISOString` writes it (UTC, milliseconds truncated, as the driver's Date), for
 * select lists read through `preparedRows`.
 */
export const isoInstant = (instant: AnyColumn): SQL<string | null> =>
  sql<string | null>`to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
