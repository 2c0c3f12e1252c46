// Compiles the server when the sources are newer than the build; shared by `npm start` and `npm run start:cluster`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const entry = path.join(root, 'dist', 'server.js');

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    newest = Math.max(newest, item.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ if it is missing or older than src/; exits the process when the compiler fails. A
 * deployment that ships dist/ without src/ (the container image) runs what it has.
 */
export function buildIfNeeded() {
  const src = path.join(root, 'src');
  if (existsSync(entry) && (!existsSync(src) || newestMtime(src) <= statSync(entry).mtimeMs)) return;
  console.log('Building...');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // An incremental build rewrites only the outputs that changed: mark the build as newer than the sources,
  // or every start would compile again.
  const now = new Date();
  utimesSync(entry, now, now);
}
