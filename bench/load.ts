import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';

/** One request template; `next` (when given) builds each request, e.g. with a fresh token. */
export interface LoadRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  next?: () => { path?: string; headers?: Record<string, string>; body?: string } | undefined;
  /** Sees every answer (e.g. to keep the refresh token a response hands back). */
  onResponse?: (status: number, body: string) => void;
}

export interface LoadFigures {
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by status code, e.g. { 200: 51234 }. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /**
   * Highest resident set size of a measured process during the run, in MiB (undefined: not sampled); with
   * several processes, that of the one that grew most.
   */
  peakRssMiB?: number;
  /** CPU time the measured processes spent per answered request, in ms (user + system, all together). */
  cpuMsPerRequest?: number;
}

export interface LoadOptions {
  /** Several: autocannon spreads the connections over them in turn (connection k goes to k mod n). */
  baseUrl: string | string[];
  connections: number;
  seconds: number;
  request: LoadRequest;
  /** Processes whose memory and CPU are sampled while the load runs. */
  samplePid?: number | number[];
}

/** Resident set size of a process in MiB (Linux /proc; undefined elsewhere). */
export async function rssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; undefined elsewhere). */
export async function cpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // Clock ticks are 1/100 s on Linux.
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time the processes have used so far, together (undefined when there are none or one is unreadable). */
async function cpuMsOf(pids: number[]): Promise<number | undefined> {
  if (pids.length === 0) return undefined;
  const each = await Promise.all(pids.map(cpuMs));
  return each.some((ms) => ms === undefined) ? undefined : each.reduce((a, b) => a! + b!, 0);
}

function sampleRss(pids: number[]) {
  let peak: number | undefined;
  const take = async () => {
    for (const now of await Promise.all(pids.map(rssMiB))) {
      if (now !== undefined) peak = Math.max(peak ?? 0, now);
    }
  };
  void take();
  const timer = setInterval(() => void take(), 250);
  return {
    async stop() {
      clearInterval(timer);
      await take();
      return peak;
    },
  };
}

/** Runs autocannon against one request shape and returns its figures (latencies in ms). */
export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  const { request } = options;
  const headers = { 'content-type': 'application/json', ...request.headers };
  const pids = options.samplePid === undefined ? [] : [options.samplePid].flat();
  const sampler = sampleRss(pids);
  const cpuBefore = await cpuMsOf(pids);
  const result = await autocannon({
    // autocannon takes a list of URLs too (its typings say one).
    url: options.baseUrl as string,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: request.method ?? 'GET',
        path: request.path,
        headers,
        body: request.body,
        ...(request.next
          ? {
              // A fresh request per send: autocannon keeps the returned object as the next request.
              setupRequest: (req: autocannon.Request) => {
                const built = request.next!();
                if (!built) return undefined as unknown as autocannon.Request;
                return {
                  ...req,
                  path: built.path ?? request.path,
                  headers: { ...headers, ...built.headers },
                  body: built.body ?? request.body,
                };
              },
            }
          : {}),
        ...(request.onResponse
          ? { onResponse: (status: number, body: string) => request.onResponse!(status, body) }
          : {}),
      },
    ],
  });
  const peakRssMiB = await sampler.stop();
  const cpuAfter = await cpuMsOf(pids);
  const statuses: Record<string, number> = {};
  const byCode = (result as unknown as { statusCodeStats?: Record<string, { count: number }> })
    .statusCodeStats;
  for (const [code, { count }] of Object.entries(byCode ?? {})) statuses[code] = Number(count);
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.total / (result.duration || options.seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    peakRssMiB,
    cpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
        ? undefined
        : (cpuAfter - cpuBefore) / result.requests.total,
  };
}
