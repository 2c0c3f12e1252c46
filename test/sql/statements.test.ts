import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { is, Param, Placeholder, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import { parseListQueryShape } from '../../src/lib/list-query.js';
import {
  guardProfileStatement,
  guardSessionStatement,
  signInAccountStatement,
  signInSessionStatement,
} from '../../src/modules/auth/repo.js';
import { LOGIN_FAILURES } from '../../src/modules/auth/throttle.js';
import * as stats from '../../src/modules/stats/repo.js';
import {
  defaultTourList,
  tourListSpec,
  tourListStatements,
} from '../../src/modules/tours/list-statements.js';
import { tourBySlugStatement, tourViewByIdStatement } from '../../src/modules/tours/repo.js';
import { publicUserByIdStatement } from '../../src/modules/users/repo.js';
import { formatSql } from './format-sql.js';

/*
 * The SQL of every named prepared statement and every statistics query, kept in test/sql/statements/<name>.sql
 * so that a change to one shows in review. A changed statement fails here until its file is written again
 * (`npx vitest run test/sql -u`) and committed. A new statement's file is written by the first run, which still
 * fails (the file was missing), and passes from the next run on. With CI set, vitest writes nothing: a changed
 * or missing file fails the run.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const statementsDir = path.join(here, 'statements');
const srcDir = path.join(here, '../../src');

// Builds queries only: nothing here connects to a database.
const db = drizzle.mock({ schema }) as unknown as Database;
const dialect = new PgDialect();

interface Statement {
  name: string;
  /** What the snapshot's header says about it, besides its parameters. */
  about?: string;
  query: { sql: string; params: unknown[] };
}

const built = (query: { toSQL(): { sql: string; params: unknown[] } }) => query.toSQL();
const rendered = (query: SQL) => dialect.sqlToQuery(query);

/** The shaped tour lists as GET /tour builds them; `tour_list_<n>` is numbered in the order shapes first come. */
const shapedList = (query: Record<string, string>) => {
  const list = parseListQueryShape(query, tourListSpec);
  const statements = tourListStatements(db, list);
  return { shape: list.shape, page: built(statements.page), total: built(statements.total) };
};
const someId = '0190a0c0-0000-7000-8000-000000000000';
const filtered = shapedList({ division: someId, tourType: someId, searchTerm: 'sea' });
const sorted = shapedList({ location: 'Sylhet', sort: '-costFrom,title' });
// A single division: its total is read from tour_counts.
const division = shapedList({ division: someId, sort: 'title' });
const frontPage = tourListStatements(db, defaultTourList);

const preparedStatements: Statement[] = [
  { name: 'auth_guard_session', query: built(guardSessionStatement(db)) },
  { name: 'auth_guard_profile', query: built(guardProfileStatement(db)) },
  { name: 'sign_in_account', query: built(signInAccountStatement(db, LOGIN_FAILURES)) },
  { name: 'sign_in_session', query: built(signInSessionStatement(db)) },
  { name: 'public_user_by_id', query: built(publicUserByIdStatement(db)) },
  { name: 'tour_by_slug', query: built(tourBySlugStatement(db)) },
  { name: 'tour_view_by_id', query: built(tourViewByIdStatement(db)) },
  { name: 'tour_list_default', query: built(frontPage.page) },
  { name: 'tour_count_all', query: built(frontPage.total) },
];

const shapedStatements: Statement[] = [
  {
    name: 'tour_list_shape_filtered_page',
    about: `tour_list_<n>_page, shape ${filtered.shape}`,
    query: filtered.page,
  },
  {
    name: 'tour_list_shape_filtered_total',
    about: `tour_list_<n>_total, shape ${filtered.shape}`,
    query: filtered.total,
  },
  {
    name: 'tour_list_shape_sorted_page',
    about: `tour_list_<n>_page, shape ${sorted.shape}`,
    query: sorted.page,
  },
  {
    name: 'tour_list_shape_sorted_total',
    about: `tour_list_<n>_total, shape ${sorted.shape}`,
    query: sorted.total,
  },
  {
    name: 'tour_list_shape_division_page',
    about: `tour_list_<n>_page, shape ${division.shape}`,
    query: division.page,
  },
  {
    name: 'tour_list_shape_division_total',
    about: `tour_list_<n>_total, shape ${division.shape}`,
    query: division.total,
  },
];

// Fixed instants, so the parameters in the files do not change from run to run.
const since7Days = new Date('2024-03-24T12:00:00Z');
const since30Days = new Date('2024-03-01T12:00:00Z');
const firstDay = new Date('2024-03-02T00:00:00Z');
/** Every `...Query` export of the stats repository, built with fixed arguments. */
const statsQueries = {
  userGroupsQuery: stats.userGroupsQuery(since7Days, since30Days),
  tourTotalsQuery: stats.tourTotalsQuery(),
  toursPerTourTypeQuery: stats.toursPerTourTypeQuery(),
  toursPerDivisionQuery: stats.toursPerDivisionQuery(),
  mostBookedToursQuery: stats.mostBookedToursQuery(5),
  upcomingTourOccupancyQuery: stats.upcomingTourOccupancyQuery(since7Days, 5),
  bookingStatusGroupsQuery: stats.bookingStatusGroupsQuery(),
  recentBookingsQuery: stats.recentBookingsQuery(since7Days, since30Days),
  distinctBookingUsersQuery: stats.distinctBookingUsersQuery(),
  bookingsPerDayQuery: stats.bookingsPerDayQuery(firstDay, 30),
  paymentGroupsQuery: stats.paymentGroupsQuery(),
  revenuePerDayQuery: stats.revenuePerDayQuery(firstDay, 30),
  refundGroupsQuery: stats.refundGroupsQuery(),
  cancellationsQuery: stats.cancellationsQuery(),
} satisfies Record<Extract<keyof typeof stats, `${string}Query`>, SQL>;
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const statsStatements: Statement[] = Object.entries(statsQueries).map(([name, query]) => ({
  name: `stats_${snakeCase(name.replace(/Query$/, ''))}`,
  about: `stats/repo.ts ${name}`,
  query: rendered(query),
}));

const everyStatement = [...preparedStatements, ...shapedStatements, ...statsStatements];

function describeParam(param: unknown): string {
  const value = is(param, Param) ? param.value : param;
  return is(value, Placeholder) ? `:${value.name}` : JSON.stringify(value);
}

function snapshotText(statement: Statement): string {
  const header = [
    `-- ${statement.name}${statement.about ? ` (${statement.about})` : ''}`,
    ...statement.query.params.map((param, i) => `-- $${i + 1} = ${describeParam(param)}`),
  ];
  return `${header.join('\n')}\n${formatSql(statement.query.sql)}`;
}

/** The literal names given to `.prepare(...)`, `preparedRows(db, ...)` or `preparedJsonRows(db, ...)` anywhere in src/. */
async function preparedNamesInSource(): Promise<string[]> {
  const files = (await readdir(srcDir, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const names: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(srcDir, file), 'utf8');
    for (const match of text.matchAll(/\.prepare\(\s*'([^']+)'\s*\)/g)) names.push(match[1]!);
    for (const match of text.matchAll(/prepared(?:Json)?Rows<[^>]*>\(\s*\w+,\s*'([^']+)'/g))
      names.push(match[1]!);
  }
  return names.sort();
}

describe('reviewed SQL', () => {
  for (const statement of everyStatement) {
    it(`${statement.name} is the committed statements/${statement.name}.sql`, async () => {
      await expect(snapshotText(statement)).toMatchFileSnapshot(
        path.join(statementsDir, `${statement.name}.sql`),
      );
    });
  }

  it('every statistics query is kept here', () => {
    const queries = Object.keys(stats).filter((name) => name.endsWith('Query'));
    expect(queries.sort()).toEqual(Object.keys(statsQueries).sort());
  });

  it('every statement prepared by name in src/ is kept here', async () => {
    expect(await preparedNamesInSource()).toEqual(preparedStatements.map((s) => s.name).sort());
  });

  it('statements/ holds one file per statement, no more, no fewer', async () => {
    const files = (await readdir(statementsDir)).filter((f) => f.endsWith('.sql'));
    expect(files.sort()).toEqual(everyStatement.map((s) => `${s.name}.sql`).sort());
  });
});
