import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { users } from '../../src/db/schema/index.js';
import { TEST_ENV } from '../helpers/app.js';
import { buildPgliteApp } from '../helpers/pglite.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tour-pglite-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded PGlite database', () => {
  it('starts with no database configured, migrates, seeds and answers /ready', async () => {
    const embedded = await buildPgliteApp(dataDir);
    try {
      expect(embedded.database.kind).toBe('pglite');
      const ready = await embedded.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().data).toEqual({ status: 'ready', database: 'pglite' });
      const [admin] = await embedded.database.db
        .select()
        .from(users)
        .where(eq(users.email, TEST_ENV.SUPER_ADMIN_EMAIL!));
      expect(admin?.role).toBe('SUPER_ADMIN');
      // A second handle on the same files, even in this process, would work on its own copy.
      await expect(openDatabase({ dataDir })).rejects.toThrow(DataDirLockedError);
      await embedded.database.db.update(users).set({ name: 'Renamed Admin' }).where(eq(users.id, admin!.id));
    } finally {
      await embedded.close();
    }
  });

  it('keeps its data in DATA_DIR across a restart', async () => {
    const reopened = await buildPgliteApp(dataDir);
    try {
      const rows = await reopened.database.db.select().from(users);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.name).toBe('Renamed Admin');
    } finally {
      await reopened.close();
    }
  });
});
