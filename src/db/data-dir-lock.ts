import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded database keeps its pages in the memory of the process that opened it: a second process on
 * the same files works on its own copy, and whichever closes last overwrites the other's writes. This lock
 * lets one process at a time open a data directory. It is a file created exclusively, naming its holder's
 * pid; a lock whose pid is no longer running (the holder was killed) is taken over.
 */

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by another process (pid ${holderPid}): the embedded database can be ` +
        'opened by one process only. Stop that process first, give this one another DATA_DIR, or set ' +
        'DATABASE_URL to share a PostgreSQL database.',
    );
  }
}

export interface DataDirLock {
  release(): void;
}

interface Holder {
  pid: number;
  token: string;
}

const LOCK_FILE = 'pglite.lock';
/** Lock files held by this process: its own pid in a lock file is a stale one only if it is not here. */
const heldHere = new Set<string>();

function readHolder(file: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    if (Number.isInteger(parsed.pid) && typeof parsed.token === 'string') {
      return { pid: parsed.pid as number, token: parsed.token };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  // Unreadable content: never written by this module (lock files appear whole, see tryCreate).
  return { pid: 0, token: '' };
}

function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file with its content in one step (a hard link fails if the name exists). */
function tryCreate(file: string, holder: Holder): boolean {
  const draft = `${file}.${holder.token}.tmp`;
  writeFileSync(draft, JSON.stringify(holder));
  try {
    linkSync(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(draft);
  }
}

/**
 * Removes the stale lock `stale` unless another process replaced it meanwhile: the file is first moved
 * aside, so two processes taking over the same stale lock cannot remove each other's new one.
 */
function removeStale(file: string, stale: Holder) {
  const aside = `${file}.${randomUUID()}.stale`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readHolder(aside);
  if (moved && moved.token !== stale.token) {
    // A fresh lock taken since we read the stale one: put it back.
    try {
      linkSync(aside, file);
    } catch {
      // Someone else holds the name now; the next attempt reads who.
    }
  }
  unlinkSync(aside);
}

/** Locks `dataDir` for this process or throws DataDirLockedError naming the process that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  const own: Holder = { pid: process.pid, token: randomUUID() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!heldHere.has(file) && tryCreate(file, own)) {
      heldHere.add(file);
      // A process that exits without closing the database (a failed start) leaves no lock behind.
      const releaseOnExit = () => releaseLock(file, own);
      process.once('exit', releaseOnExit);
      return {
        release: () => {
          process.removeListener('exit', releaseOnExit);
          releaseLock(file, own);
        },
      };
    }
    const holder = readHolder(file);
    if (!holder) continue;
    const ownStaleLock = holder.pid === process.pid && !heldHere.has(file);
    if (isRunning(holder.pid) && !ownStaleLock) throw new DataDirLockedError(dataDir, holder.pid);
    removeStale(file, holder);
  }
  throw new Error(`could not lock DATA_DIR ${dataDir}: its lock file ${file} keeps changing`);
}

function releaseLock(file: string, own: Holder) {
  if (!heldHere.delete(file)) return;
  // Only remove the file if it is still ours.
  if (readHolder(file)?.token !== own.token) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone: nothing left to release.
  }
}
