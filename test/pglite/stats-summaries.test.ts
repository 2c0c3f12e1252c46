import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../helpers/factories.js';
import { buildPgliteApp } from '../helpers/pglite.js';
import { figuresFromScratch, readAllStats, runStatsScenario } from '../helpers/stats-scenario.js';

// The statistics summaries' triggers, fold and rebuild on the embedded database.

let dataDir: string;
let t: Awaited<ReturnType<typeof buildPgliteApp>>;
let admin: TestUser;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-stats-'));
  t = await buildPgliteApp(dataDir, { MAX_ACTIVE_HOLDS_PER_USER: '100' });
  admin = await runStatsScenario(t.app);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('statistics summaries on PGlite', () => {
  it('answer what a rebuild from scratch answers, before and after folding', async () => {
    const maintained = (await readAllStats(t.app, admin)) as Record<string, Record<string, unknown>>;
    const scratch = await figuresFromScratch(t.app.ctx);
    expect(maintained.booking!.cancellations).toMatchObject({
      afterPayment: Number(scratch.cancelled_after_payment),
    });
    expect(maintained.booking!.totalBookingByUniqueUsers).toBe(Number(scratch.booking_users));
    await t.database.db.execute(sql`select stats_fold()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
    await t.database.db.execute(sql`select stats_rebuild()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
  });
});
