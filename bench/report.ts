import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HashRate } from './argon2-rate.js';
import type { LoadFigures } from './load.js';
import { ROOT } from './processes.js';
import type { Scenario } from './scenarios.js';

export const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');
export const SECTION = '## Load scenarios';

export const TARGETS = {
  readShareOfBaseline: 0.5,
  readP99FloorMs: 25,
  loginShareOfHashRate: 0.8,
  statsMs: 100,
  rssMiB: 250,
};

export interface Measured {
  scenario: Scenario;
  figures: LoadFigures;
  connections: number;
}

export interface RunInfo {
  date: string;
  machine: string;
  node: string;
  postgres: string;
  packages: string;
  dataset: string;
  method: string;
  hashRate: HashRate;
  seatDrift: number;
  /** The one-departure scenarios' seat checks, one line each (empty when they did not run). */
  departureChecks?: string[];
  idleRssMiB?: number;
  /** The `npm start` launcher process, which only waits for the server and passes signals on. */
  launcherRssMiB?: number;
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Share of answers that were the expected success status. */
export function successShare(m: Measured): number {
  const ok = m.scenario.ok ?? [200];
  const good = ok.reduce((sum, code) => sum + (m.figures.statuses[String(code)] ?? 0), 0);
  return m.figures.requests === 0 ? 0 : good / m.figures.requests;
}

/** Each scenario's verdict against the targets, with the reason when it misses. */
export function verdict(m: Measured, byName: Map<string, Measured>, hash: HashRate): string {
  const f = m.figures;
  const misses: string[] = [];
  if (successShare(m) < 0.999) misses.push(`only ${fixed(successShare(m) * 100)}% succeeded`);
  if (f.peakRssMiB !== undefined && f.peakRssMiB >= TARGETS.rssMiB) misses.push('RSS');
  if (m.scenario.kind === 'read') {
    const base = m.scenario.baseline ? byName.get(m.scenario.baseline) : undefined;
    if (base) {
      if (f.reqPerSec < TARGETS.readShareOfBaseline * base.figures.reqPerSec) misses.push('throughput');
      if (f.p99 > Math.max(TARGETS.readP99FloorMs, 2 * base.figures.p99)) misses.push('p99');
    }
  }
  if (m.scenario.kind === 'login' && f.reqPerSec < TARGETS.loginShareOfHashRate * hash.hashesPerSec) {
    misses.push('throughput');
  }
  if (m.scenario.kind === 'stats' && f.p99 >= TARGETS.statsMs) misses.push('p99');
  if (m.scenario.kind === 'baseline') return '';
  return misses.length === 0 ? 'met' : `**missed** (${misses.join(', ')})`;
}

function ratio(m: Measured, byName: Map<string, Measured>, hash: HashRate): string {
  if (m.scenario.kind === 'login')
    return `${fixed((m.figures.reqPerSec / hash.hashesPerSec) * 100, 0)}% of hash rate`;
  const base = m.scenario.baseline ? byName.get(m.scenario.baseline) : undefined;
  if (!base) return '';
  return `${fixed((m.figures.reqPerSec / base.figures.reqPerSec) * 100, 0)}%`;
}

const statuses = (f: LoadFigures) =>
  Object.entries(f.statuses)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ') + (f.errors > 0 ? ` errors×${f.errors}` : '');

export function renderSection(results: Measured[], info: RunInfo): string {
  const byName = new Map(results.map((m) => [m.scenario.name, m]));
  const row = (m: Measured) =>
    `| ${m.scenario.name} | ${m.connections} | ${fixed(m.figures.reqPerSec, 0)} | ${fixed(m.figures.p50)} | ` +
    `${fixed(m.figures.p99)} | ${ratio(m, byName, info.hashRate)} | ` +
    `${m.figures.cpuMsPerRequest === undefined ? '' : fixed(m.figures.cpuMsPerRequest, 2)} | ` +
    `${m.figures.peakRssMiB === undefined ? '' : fixed(m.figures.peakRssMiB, 0)} | ` +
    `${statuses(m.figures)} | ${verdict(m, byName, info.hashRate)} |`;
  const header = [
    '| scenario | conns | req/s | p50 ms | p99 ms | vs raw SQL | server CPU ms/req | peak RSS MiB | answers | target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  const baselines = results.filter((m) => m.scenario.kind === 'baseline');
  const app = results.filter((m) => m.scenario.kind !== 'baseline');
  const h = info.hashRate;
  const peak = Math.max(...app.map((m) => m.figures.peakRssMiB ?? 0));
  return [
    SECTION,
    '',
    `Written by \`npm run bench\` (bench/run.ts) on ${info.date}. Regenerate rather than edit.`,
    '',
    `- Machine: ${info.machine}`,
    `- Node ${info.node}, PostgreSQL ${info.postgres} (same machine); ${info.packages}`,
    `- Dataset: ${info.dataset}`,
    `- Method: ${info.method}`,
    '',
    '### The app (separate process, production build)',
    '',
    ...header,
    ...app.map(row),
    '',
    '### Baselines (bare Fastify in its own process, same database and pool size)',
    '',
    ...header,
    ...baselines.map(row),
    '',
    `- Raw argon2id (m=19456, t=2, p=1, as src/lib/passwords.ts), ${h.concurrency} hashes in flight: ` +
      `**${fixed(h.hashesPerSec)} hashes/s** (${h.hashes} in the run; p50 ${fixed(h.p50)} ms, p99 ${fixed(h.p99)} ms).`,
    `- App RSS: ${info.idleRssMiB === undefined ? '?' : fixed(info.idleRssMiB, 0)} MiB idle after start-up, ` +
      `${fixed(peak, 0)} MiB peak under load (target < ${TARGETS.rssMiB} MiB)` +
      (info.launcherRssMiB === undefined
        ? '.'
        : `; the \`npm start\` launcher waiting for it holds another ${fixed(info.launcherRssMiB, 0)} MiB.`),
    `- Seat accounting after the booking scenario: ${info.seatDrift === 0 ? 'exact (seats held = guests of holding bookings on every contended tour)' : `**off by ${info.seatDrift} seats**`}.`,
    ...(info.departureChecks ?? []).map((line) => `- One departure, two instances, ${line}.`),
    '',
    `Targets: read scenarios ≥ ${TARGETS.readShareOfBaseline * 100}% of their raw-SQL baseline's req/s and p99 ≤ ` +
      `max(${TARGETS.readP99FloorMs} ms, 2 × the baseline's p99); login ≥ ${TARGETS.loginShareOfHashRate * 100}% of the raw ` +
      `hash rate; each stats call < ${TARGETS.statsMs} ms (p99 of sequential calls); RSS < ${TARGETS.rssMiB} MiB; ` +
      'and (added here) at least 99.9% of answers are the expected status.',
    '',
  ].join('\n');
}

/**
 * Replaces (or inserts at the top) the generated section titled `title` (default: the load scenarios), leaving
 * every other section as it is.
 */
export async function writeSection(section: string, title = SECTION): Promise<void> {
  let doc: string;
  try {
    doc = await readFile(DOC, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const start = doc.indexOf(`\n${title}\n`);
  if (start === -1) {
    const firstSection = doc.search(/^## /m);
    doc =
      firstSection === -1
        ? `${doc.trimEnd()}\n\n${section}`
        : `${doc.slice(0, firstSection)}${section.trimEnd()}\n\n${doc.slice(firstSection)}`;
  } else {
    const rest = doc.slice(start + 1 + title.length);
    const next = rest.search(/^## /m);
    doc = `${doc.slice(0, start + 1)}${section.trimEnd()}${next === -1 ? '' : `\n\n${rest.slice(next)}`}`;
  }
  await writeFile(DOC, `${doc.trimEnd()}\n`);
}
