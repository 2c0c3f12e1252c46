import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningProcess {
  child: ChildProcess;
  /** The process that serves: the one started, or the server `npm start` (scripts/start.mjs) started. */
  pid: number;
  /** The process started, when it only launched the server (`npm start` applying its memory settings). */
  launcherPid?: number;
  baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Compiles src/ to dist/ (the app is measured as it runs in production, not through a loader). */
export function buildApp(): void {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('npm run build failed; the benchmark needs a compiled app');
  // As scripts/build.mjs does: the build is newer than the sources, so `npm start` does not compile again.
  const now = new Date();
  utimesSync(path.join(ROOT, 'dist', 'server.js'), now, now);
}

/** The one process `pid` started (Linux /proc), if it started exactly one. */
function onlyChildOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return children.length === 1 && children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `node <args>` in the project root and resolves once its output says it is listening on `port`
 * (both the app and the baseline print "listening on http://...").
 */
export function startProcess(
  args: string[],
  env: Record<string, string>,
  port: number,
  label: string,
  /** The process started launches the server as its child (`npm start`): measure that one. */
  options: { launcher?: boolean } = {},
): Promise<RunningProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    // Keep the tail only: a long run must not grow this without bound.
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start within 60 s:\n${out}`));
    }, 60_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code} before listening:\n${out}`));
    };
    child.once('exit', onExit);
    child.stdout!.on('data', function ready() {
      if (!out.includes('listening on')) return;
      child.stdout!.off('data', ready);
      child.off('exit', onExit);
      clearTimeout(timer);
      const server = options.launcher ? onlyChildOf(child.pid!) : undefined;
      resolve({
        child,
        pid: server ?? child.pid!,
        launcherPid: server === undefined ? undefined : child.pid!,
        baseUrl: `http://127.0.0.1:${port}`,
        output: () => out,
        async stop() {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(force);
        },
      });
    });
  });
}
