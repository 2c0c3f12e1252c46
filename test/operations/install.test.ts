import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
const manifest = read('package.json') as { engines: { node: string } };
const lock = read('package-lock.json') as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('install', () => {
  // npm prints an EBADENGINE warning for every locked package whose engines exclude the running Node.
  it('every locked package supports the oldest Node version the README documents', () => {
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    const unsupported = Object.entries(lock.packages)
      .filter(([name, pkg]) => {
        const range = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
        return name !== '' && range !== undefined && !semver.satisfies(oldest, range);
      })
      .map(([name, pkg]) => `${name.replace(/^.*node_modules\//, '')}@${pkg.version}`);
    expect(unsupported, `these need a newer Node than ${oldest}`).toEqual([]);
  });
});
