import os from 'node:os';
import v8 from 'node:v8';

/**
 * The process settings a production server runs with, measured by `npm run bench` (docs/BENCHMARKS.md):
 * - a V8 old-space limit, so the collector runs before garbage piles up (the live heap is ~40-80 MiB, yet on
 *   a large machine V8 otherwise lets the old generation grow to hundreds of MiB), and 16 MiB semi-spaces:
 *   the young generation Node 20 and 22 give that limit, where Node 24's V8 makes them 64 MiB each (a heap
 *   limit of 448 MiB instead of the measured 304);
 * - a libuv pool of one thread per core (at least 2), so at most that many 19 MiB argon2id hashes are in
 *   memory at once;
 * - two malloc arenas, so the pool threads do not each keep a mostly empty arena resident.
 *
 * glibc reads MALLOC_ARENA_MAX when the process starts and libuv reads UV_THREADPOOL_SIZE on the pool's first
 * use, so all three must be in place when node is executed: `npm start` (scripts/start.mjs) and
 * `npm run start:cluster` start the server as a child process with them, and the benchmark starts the app
 * through `npm start`. One the operator sets (in NODE_OPTIONS, node's own flags or the environment) is kept.
 */
export const HEAP_LIMIT_MIB = 256;
export const SEMI_SPACE_MIB = 16;
export const MALLOC_ARENAS = 2;

const HEAP_FLAG = /--max[-_]old[-_]space[-_]size[=\s]*(\d+)/;
/** Either V8 heap flag: an operator who sizes the heap chooses both generations. */
const ANY_HEAP_FLAG = /--max[-_](old|semi)[-_]space[-_]size/;

export interface MemorySettings {
  /** Node flags to add to the server's command line (empty when the operator set a heap size). */
  execArgv: string[];
  /** Variables to add to the server's environment (only those the operator left unset). */
  env: Record<string, string>;
}

/**
 * What to add when starting a server process from a process with `env` and `execArgv`. `instances` servers
 * sharing the machine share its cores, so each gets a proportional libuv pool.
 */
export function memorySettings(
  env: NodeJS.ProcessEnv = process.env,
  options: { instances?: number; execArgv?: readonly string[]; cores?: number } = {},
): MemorySettings {
  const { instances = 1, execArgv = process.execArgv, cores = os.availableParallelism() } = options;
  const heapSet = ANY_HEAP_FLAG.test([...execArgv, env.NODE_OPTIONS ?? ''].join(' '));
  const added: Record<string, string> = {};
  if (!env.UV_THREADPOOL_SIZE) {
    added.UV_THREADPOOL_SIZE = String(Math.max(2, Math.ceil(cores / Math.max(1, instances))));
  }
  if (!env.MALLOC_ARENA_MAX) added.MALLOC_ARENA_MAX = String(MALLOC_ARENAS);
  const heapFlags = [`--max-old-space-size=${HEAP_LIMIT_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`];
  return { execArgv: heapSet ? [] : heapFlags, env: added };
}

/** True when nothing needs adding, i.e. this process already started with every setting. */
export const memorySettingsInEffect = (settings: MemorySettings) =>
  settings.execArgv.length === 0 && Object.keys(settings.env).length === 0;

/**
 * The settings this process runs with, as the start-up summary states them: V8's heap limit (old space
 * plus young generation) with the flag that set it, and the libuv and malloc variables it started with.
 */
export function describeMemory(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): string {
  const limitMiB = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  const flag = HEAP_FLAG.exec([...execArgv, env.NODE_OPTIONS ?? ''].join(' '));
  const heap = `heap limit ${limitMiB} MiB (${flag ? `--max-old-space-size=${flag[1]}` : 'V8 default'})`;
  const threads = env.UV_THREADPOOL_SIZE
    ? `UV_THREADPOOL_SIZE=${env.UV_THREADPOOL_SIZE}`
    : 'UV_THREADPOOL_SIZE unset (4 threads)';
  const arenas = env.MALLOC_ARENA_MAX
    ? `MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}`
    : 'MALLOC_ARENA_MAX unset (8 arenas per core)';
  return `${heap}, ${threads}, ${arenas}`;
}
