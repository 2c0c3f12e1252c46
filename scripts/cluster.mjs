// `npm run start:cluster`: INSTANCES copies of the server (default: one per CPU core) sharing one port through
// node:cluster, all against one PostgreSQL (DATABASE_URL) and, when REDIS_URL is set, one Redis.
//
// The first instance starts alone (it applies migrations and seeds an empty database), then the others join.
// An instance that dies is replaced; SIGTERM/SIGINT drain every instance (each finishes its in-flight
// requests) before the primary exits.
import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfNeeded, entry, root } from './build.mjs';

// Compile once here, not once per instance.
buildIfNeeded();

// The settings the instances will read: the environment over a `.env` file in the working directory.
const { readSettings } = await import(pathToFileURL(path.join(root, 'dist', 'config.js')).href);
const { env } = readSettings();

const instances = Number(env.INSTANCES || os.availableParallelism());
if (!Number.isInteger(instances) || instances < 1) {
  console.error(`INSTANCES must be a positive integer (got "${env.INSTANCES}")`);
  process.exit(1);
}
if (!env.DATABASE_URL) {
  // The embedded database lives in one process's memory and files; replicas need a shared server.
  console.error('start:cluster needs DATABASE_URL (PostgreSQL): the embedded database cannot be shared');
  process.exit(1);
}
if (!env.REDIS_URL) {
  console.warn('REDIS_URL is not set: each instance keeps its own rate-limit counters');
}
const poolMax = Number(env.DATABASE_POOL_MAX || 20);
console.log(
  `starting ${instances} instance(s), up to ${instances * poolMax} PostgreSQL connections in total ` +
    "(INSTANCES × DATABASE_POOL_MAX; keep it under the server's max_connections)",
);

// The production memory settings for each instance (src/lib/memory-settings.ts; each can be overridden), with
// a libuv pool of cores / instances threads (at least 2) for argon2id hashing.
const { memorySettings } = await import(
  pathToFileURL(path.join(root, 'dist', 'lib', 'memory-settings.js')).href
);
const settings = memorySettings(process.env, { instances });
const workerEnv = settings.env;
cluster.setupPrimary({ exec: entry, execArgv: [...process.execArgv, ...settings.execArgv] });

let stopping = false;
const recentDeaths = [];

function fork() {
  const worker = cluster.fork(workerEnv);
  return new Promise((resolve, reject) => {
    worker.once('listening', () => resolve(worker));
    worker.once('exit', (code) => reject(new Error(`instance exited with code ${code} during start-up`)));
  });
}

cluster.on('exit', (worker, code, signal) => {
  if (stopping) return;
  const now = Date.now();
  recentDeaths.push(now);
  while (recentDeaths.length > 0 && recentDeaths[0] < now - 60_000) recentDeaths.shift();
  console.error(`instance ${worker.process.pid} exited (${signal ?? code})`);
  if (recentDeaths.length > instances * 3) {
    console.error('instances keep dying; giving up');
    void shutdown(1);
    return;
  }
  setTimeout(() => {
    if (!stopping) fork().catch((err) => console.error(err.message));
  }, 1000);
});

async function shutdown(exitCode) {
  if (stopping) return;
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter(Boolean);
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', resolve);
          // Each instance handles SIGTERM itself: stop accepting, finish in-flight requests, close the pool.
          worker.process.kill('SIGTERM');
        }),
    ),
  );
  process.exit(exitCode);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

try {
  await fork();
  await Promise.all(Array.from({ length: instances - 1 }, () => fork()));
  console.log(`${instances} instance(s) listening (primary ${process.pid})`);
} catch (err) {
  console.error(err.message);
  await shutdown(1);
}
