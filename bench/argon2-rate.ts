import { pathToFileURL } from 'node:url';
import { hash } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../src/lib/passwords.js';

export interface HashRate {
  hashesPerSec: number;
  hashes: number;
  concurrency: number;
  p50: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * How many argon2id hashes per second this machine makes with the app's parameters, with `concurrency`
 * hashes always in flight (the login scenario's connection count). This is the ceiling for sign-in:
 * every login verifies one hash, which costs the same as making one.
 */
export async function measureHashRate(concurrency: number, seconds: number): Promise<HashRate> {
  const until = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let n = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      await hash(`bench-password-${n++}`, ARGON2_PARAMS);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    hashesPerSec: latencies.length / elapsed,
    hashes: latencies.length,
    concurrency,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

// `node --import tsx bench/argon2-rate.ts <concurrency> <seconds>`: run in its own process, so it gets the
// same runtime settings (UV_THREADPOOL_SIZE, MALLOC_ARENA_MAX) as the app it is compared with.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [concurrency = '50', seconds = '5'] = process.argv.slice(2);
  measureHashRate(Number(concurrency), Number(seconds)).then((rate) => console.log(JSON.stringify(rate)));
}
