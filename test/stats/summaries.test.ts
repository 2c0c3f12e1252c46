import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { figuresFromScratch, readAllStats, rowsOf, runStatsScenario } from '../helpers/stats-scenario.js';

// The statistics read summaries that triggers keep in the transactions writing bookings, payments, refunds
// and users. After a realistic run through the API they must equal a computation from scratch, before and
// after the change rows are folded.

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ env: { MAX_ACTIVE_HOLDS_PER_USER: '100' } });
  admin = await runStatsScenario(t.app);
});
afterAll(() => t?.close());

describe('statistics summaries', () => {
  it('answer what a rebuild from scratch answers, before and after folding', async () => {
    const [unfolded] = await rowsOf(t.ctx, sql`select count(*)::int as n from stats_booking_days`);
    const maintained = await readAllStats(t.app, admin);
    await t.ctx.db.execute(sql`select stats_fold()`);
    const [folded] = await rowsOf(t.ctx, sql`select count(*)::int as n from stats_booking_days`);
    // Folding did collapse change rows, so the first read did sum several rows per key.
    expect(Number(folded!.n)).toBeLessThan(Number(unfolded!.n));
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
    await t.ctx.db.execute(sql`select stats_rebuild()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
  });

  it('match the base tables', async () => {
    const stats = (await readAllStats(t.app, admin)) as Record<string, Record<string, unknown>>;
    const scratch = await figuresFromScratch(t.ctx);
    const byStatus = scratch.by_status as Record<string, number>;
    expect(stats.booking!.totalBookingByStatus).toEqual(
      ['PENDING', 'COMPLETE', 'CANCEL', 'FAILED'].map((s) => ({ _id: s, count: Number(byStatus[s] ?? 0) })),
    );
    expect(stats.booking!.totalBookingByUniqueUsers).toBe(Number(scratch.booking_users));
    expect(stats.booking!.cancellations).toEqual({
      total: Number(byStatus.CANCEL ?? 0),
      afterPayment: Number(scratch.cancelled_after_payment),
    });
    expect(Number(scratch.cancelled_after_payment)).toBeGreaterThanOrEqual(2);
    expect(stats.payment!.totalRevenue).toEqual([
      { _id: null, totalRevenue: Number(scratch.revenue_minor) / 100 },
    ]);
    expect((stats.booking!.refunds as { count: number }).count).toBe(Number(scratch.refunds_done));
    expect((stats.booking!.bookingsPerTour as { _id: string }[]).map((b) => b._id)).toEqual(
      scratch.tours_ranked,
    );
    expect(stats.user!.totalBlockedUsers).toBe(Number(scratch.blocked));
    expect(stats.user!.totalDeletedUsers).toBe(1);
  });

  it('stay exact when folds and writes interleave', async () => {
    const before = (await readAllStats(t.app, admin)) as Record<string, Record<string, number>>;
    await Promise.all([
      runStatsScenario(t.app),
      t.ctx.db.execute(sql`select stats_fold()`),
      t.ctx.db.execute(sql`select stats_fold()`),
    ]);
    await t.ctx.db.execute(sql`select stats_fold()`);
    const maintained = (await readAllStats(t.app, admin)) as Record<string, Record<string, number>>;
    expect(maintained.booking!.totalBooking).toBeGreaterThan(before.booking!.totalBooking!);
    await t.ctx.db.execute(sql`select stats_rebuild()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
  });
});
