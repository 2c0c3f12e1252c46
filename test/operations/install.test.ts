import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const manifest = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};
const engines = new semver.Range(manifest.engines.node);
/** The first release of each Node line `engines` names, e.g. 20.19.0, 22.13.0 and 24.0.0. */
const lineMinimums = engines.set.map(
  (comparators) => semver.minVersion(comparators.map((c) => c.value).join(' '))!.version,
);

describe('install', () => {
  // npm prints an EBADENGINE warning for every locked package whose engines exclude the running Node.
  it('every locked package supports the first supported release of every Node line', () => {
    expect(lineMinimums.length).toBeGreaterThan(1);
    const unsupported = Object.entries(lock.packages).flatMap(([name, pkg]) => {
      const range = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
      if (name === '' || range === undefined) return [];
      return lineMinimums
        .filter((version) => !semver.satisfies(version, range))
        .map((version) => `${name.replace(/^.*node_modules\//, '')}@${pkg.version} (not on ${version})`);
    });
    expect(unsupported, 'these need a newer Node than a supported line').toEqual([]);
  });

  // The suite runs on every line CI tests: each of them must be one that engines names.
  it('the Node running the tests is one that engines names', () => {
    expect(semver.satisfies(process.version, engines), process.version).toBe(true);
  });

  it('CI and the container image run Node lines that engines names', () => {
    const ciLines = /CI_NODE_LINES-([\d ]+)\}/.exec(read('.ci/run'))?.[1]?.trim().split(/\s+/) ?? [];
    const imageLines = [...read('deploy/Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((m) => m[1]!);
    expect(ciLines.length).toBeGreaterThan(0);
    expect(imageLines.length).toBeGreaterThan(0);
    for (const line of [...ciLines, ...imageLines]) {
      expect(semver.intersects(`^${line}.0.0`, manifest.engines.node), `Node ${line}`).toBe(true);
    }
  });
});
