import { loadConfig } from '../config.js';
import { openDatabase } from './client.js';
import { runMigrations } from './migrate.js';

const config = loadConfig();
const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const { applied, total } = await runMigrations(handle);
await handle.close();
console.log(`Migrations: ${applied} applied now, ${total} in total (${handle.kind}).`);
