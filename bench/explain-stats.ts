/**
 * EXPLAIN (ANALYZE, BUFFERS) of every statistics query on a loaded database (e.g. one filled by
 * `tsx bench/dataset.ts`): tsx bench/explain-stats.ts --database-url URL [--plans]. Prints each query's
 * execution time (the best of three runs) and, with --plans, its plan.
 */
import { pathToFileURL } from 'node:url';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as stats from '../src/modules/stats/repo.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The statements the four endpoints run, with the arguments a request at `now` gives them. */
export function statsQueries(repo: typeof stats, now: Date): [string, SQL][] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const firstDay = new Date(today - 29 * DAY_MS);
  const since7 = new Date(now.getTime() - 7 * DAY_MS);
  const since30 = new Date(now.getTime() - 30 * DAY_MS);
  return [
    ['user groups', repo.userGroupsQuery(since7, since30)],
    ['tour totals', repo.tourTotalsQuery()],
    ['tours per tour type', repo.toursPerTourTypeQuery()],
    ['tours per division', repo.toursPerDivisionQuery()],
    ['most booked tours (10)', repo.mostBookedToursQuery(10)],
    ['upcoming occupancy (10)', repo.upcomingTourOccupancyQuery(now, 10)],
    ['booking status groups', repo.bookingStatusGroupsQuery()],
    ['recent bookings', repo.recentBookingsQuery(since7, since30)],
    ['distinct booking users', repo.distinctBookingUsersQuery()],
    ['bookings per day (30)', repo.bookingsPerDayQuery(firstDay, 30)],
    ['payment groups', repo.paymentGroupsQuery()],
    ['refund groups', repo.refundGroupsQuery()],
    ['cancellations', repo.cancellationsQuery()],
    ['revenue per day (30)', repo.revenuePerDayQuery(firstDay, 30)],
  ];
}

export async function explainAll(databaseUrl: string, repo: typeof stats, showPlans: boolean) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const dialect = new PgDialect();
  try {
    for (const [name, query] of statsQueries(repo, new Date())) {
      const { sql: text, params } = dialect.sqlToQuery(query);
      let best = Number.POSITIVE_INFINITY;
      let plan = '';
      for (let k = 0; k < 3; k += 1) {
        const { rows } = await client.query(`explain (analyze, buffers) ${text}`, params);
        const lines = rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
        const ms = Number(/Execution Time: ([\d.]+)/.exec(lines.at(-1) ?? '')?.[1]);
        if (ms < best) [best, plan] = [ms, lines.join('\n')];
      }
      console.log(`${name.padEnd(26)} ${best.toFixed(2).padStart(9)} ms`);
      if (showPlans) console.log(`${plan}\n`);
    }
  } finally {
    await client.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--database-url');
  const url = at >= 0 ? args[at + 1] : process.env.DATABASE_URL;
  if (!url) throw new Error('pass --database-url or set DATABASE_URL');
  explainAll(url, stats, args.includes('--plans')).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
