import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TEST_ENV } from './app.js';

const serverEntry = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const startScript = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Starts `src/server.ts` as a real process and resolves once it listens. The test settings apply unless
 * `bare` is set, which starts it as `npm start` would with no configuration but `env`. `cwd` is where it
 * looks for a `.env` file (default: this process's working directory). `npmStart` runs what `npm start`
 * runs instead (scripts/start.mjs: the compiled server, built first if src/ is newer).
 */
export function startServer(
  env: Record<string, string>,
  options: { bare?: boolean; startTimeoutMs?: number; cwd?: string; npmStart?: boolean } = {},
): Promise<{ child: ChildProcess; output: () => string }> {
  const base = options.bare
    ? { PATH: process.env.PATH ?? '', ...machineClock() }
    : { ...process.env, ...TEST_ENV };
  const args = options.npmStart ? [startScript] : ['--import', tsxLoader, serverEntry];
  const child = spawn(process.execPath, args, {
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${out}`)),
      options.startTimeoutMs ?? 30_000,
    );
    child.stdout!.on('data', () => {
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

/**
 * The machine's time zone and clock are not configuration: a bare server keeps them, so under
 * scripts/test-shifted-clock.sh (libfaketime: LD_PRELOAD and FAKETIME*) it shares the test's clock.
 */
function machineClock(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        (entry[0] === 'TZ' || entry[0] === 'LD_PRELOAD' || entry[0].startsWith('FAKETIME')),
    ),
  );
}

export const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

/**
 * A port nothing listens on, chosen by the OS from its ephemeral range, so two test files never pick the same one
 * and fetch never refuses it (undici blocks a list of well-known ports, several of them in the low thousands).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
