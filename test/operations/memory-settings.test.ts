import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_LIMIT_MIB, memorySettings } from '../../src/lib/memory-settings.js';

/** V8's heap limit (old space plus young generation) in a node started with `flags`, in MiB. */
function heapLimitMiB(flags: readonly string[]): number {
  const out = execFileSync(
    process.execPath,
    [...flags, '-p', 'require("node:v8").getHeapStatistics().heap_size_limit / 2 ** 20'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
  );
  return Number(out.trim());
}

describe('production memory settings', () => {
  // The young generation is bounded too: Node 24's V8 alone would add 192 MiB of semi-spaces to the 256.
  it('give the server the measured heap on the Node running the tests', () => {
    const { execArgv } = memorySettings({}, { execArgv: [] });
    const limit = heapLimitMiB(execArgv);
    expect(limit).toBeGreaterThan(HEAP_LIMIT_MIB);
    expect(limit).toBeLessThanOrEqual(HEAP_LIMIT_MIB + 48);
  });

  it('leave the heap to an operator who sized either generation', () => {
    for (const NODE_OPTIONS of ['--max-old-space-size=200', '--max-semi-space-size=32']) {
      expect(memorySettings({ NODE_OPTIONS }, { execArgv: [] }).execArgv).toEqual([]);
    }
    expect(memorySettings({}, { execArgv: ['--max-old-space-size=512'] }).execArgv).toEqual([]);
  });
});
