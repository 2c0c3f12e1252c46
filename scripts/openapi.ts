// `npm run openapi`: writes the API description the server serves at /openapi.json to docs/openapi.json.
// It builds the app without a database (describing the routes needs none) and with the default settings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';

const descriptionFile = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

const dataDir = await mkdtemp(path.join(tmpdir(), 'openapi-'));
try {
  // A pool that is never used: nothing connects until a query runs.
  const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://127.0.0.1:1/unused' });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
  const app = await buildApp({ config, database, runJobs: false, logger: false });
  await app.ready();
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  await app.close();
  await database.close();
  if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
  await writeFile(descriptionFile, `${JSON.stringify(res.json(), null, 2)}\n`);
  console.log(`Wrote ${path.relative(process.cwd(), descriptionFile)}`);
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
