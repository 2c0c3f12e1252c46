// `npm start`: compile when the sources are newer than the build, then run the server with the production
// memory settings (src/lib/memory-settings.ts). glibc and libuv read theirs when the process starts, so unless
// they are all in effect already (set by the operator), the server runs as a child process started with them;
// this process passes SIGTERM, SIGINT and SIGHUP on to it and exits as it does.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfNeeded, entry, root } from './build.mjs';

buildIfNeeded();

const { memorySettings, memorySettingsInEffect } = await import(
  pathToFileURL(path.join(root, 'dist', 'lib', 'memory-settings.js')).href
);
const settings = memorySettings(process.env);

if (memorySettingsInEffect(settings)) {
  await import(pathToFileURL(entry).href);
} else {
  const child = spawn(process.execPath, [...process.execArgv, ...settings.execArgv, entry], {
    env: { ...process.env, ...settings.env },
    stdio: 'inherit',
  });
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  // The server drains in-flight requests on the signal; this process waits for it to exit.
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`Failed to start the server: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (code !== null) process.exit(code);
    // Killed by a signal it did not handle: end the same way, so a supervisor sees the same cause.
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal ?? 'SIGTERM');
  });
}
