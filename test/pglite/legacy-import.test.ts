import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLegacyDump } from '../../src/modules/legacy-import/loader.js';
import type { TestUser } from '../helpers/factories.js';
import { writeDump } from '../helpers/legacy-dump.js';
import { buildPgliteApp } from '../helpers/pglite.js';
import { readAllStats } from '../helpers/stats-scenario.js';
import { legacyWorld, PASSWORDS } from '../legacy-import/legacy-world.js';

// The legacy import on the embedded default: a gzipped mongodump into PGlite, imported once, then again.

const now = new Date();
const world = legacyWorld(now);
let dir: string;
let t: Awaited<ReturnType<typeof buildPgliteApp>>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'legacy-pglite-'));
  t = await buildPgliteApp(path.join(dir, 'data'));
  await writeDump(path.join(dir, 'dump', 'tours-db'), world.collections, 'bson.gz');
}, 120_000);
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the legacy import on PGlite', () => {
  it('imports a dump once, answers with its data, and adds nothing the second time', async () => {
    const run = () =>
      importLegacyDump({
        db: t.database.db,
        clock: { now: () => now },
        holdMinutes: 30,
        folder: path.join(dir, 'dump'),
      });
    const first = await run();
    expect(first.counts.bookings).toMatchObject({ imported: world.imported.bookings });
    expect(first.refusals).toHaveLength(world.refused.length);
    const second = await run();
    expect(second.counts.bookings).toMatchObject({ imported: 0, alreadyImported: world.imported.bookings });
    expect(second.refusals.map((r) => r.legacyId).sort()).toEqual(
      first.refusals.map((r) => r.legacyId).sort(),
    );

    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'admin@legacy.test', password: PASSWORDS.admin },
    });
    expect(login.statusCode).toBe(200);
    const admin = { auth: { authorization: `Bearer ${login.json().data.accessToken}` } } as TestUser;
    const tour = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tour?division=${world.ids.dhaka.toHexString()}`,
    });
    expect(tour.json().data.map((d: { slug: string }) => d.slug)).toEqual(['sundarbans-safari']);
    const maintained = await readAllStats(t.app, admin);
    await t.database.db.execute(sql`select stats_rebuild()`);
    expect(await readAllStats(t.app, admin)).toEqual(maintained);
  }, 60_000);
});
