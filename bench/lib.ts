import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

/** One autocannon run of POSTed GraphQL bodies, rotated per request. */
export async function load(options: {
  url: string;
  headers: Record<string, string>;
  bodies: string[];
  body?: () => string;
  connections: number;
  seconds: number;
  /** A steady rate over all connections (requests per second) instead of as fast as possible. */
  rate?: number;
  /** Per-request headers, rotated with the bodies (callers who each present their own token). */
  headersPerBody?: Record<string, string>[];
}): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    requests: [
      {
        // Either rotate over fixed bodies or make a fresh one per request (unique idempotency keys).
        setupRequest: (request) => {
          const i = next++;
          const headers = options.headersPerBody ? { ...request.headers, ...options.headersPerBody[i % options.headersPerBody.length] } : request.headers;
          return { ...request, headers, body: options.body ? options.body() : options.bodies[i % options.bodies.length] };
        },
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

export function mean(values: number[]): number {
  return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

/** CPU seconds (user + system) each process has used so far; PostgreSQL's backends summed as "postgres". */
export function cpuSeconds(pids: Record<string, number>): Record<string, number> {
  // utime + stime, and for PostgreSQL also cutime + cstime (backends that exited count in the postmaster's).
  const ticks = (pid: number | string, children = false) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    } catch {
      return 0; // exited
    }
  };
  const result: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) result[name] = ticks(pid) / 100;
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') postgres += ticks(entry, true);
    } catch {
      // gone meanwhile
    }
  }
  result['postgres'] = postgres / 100;
  result['load generator'] = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  return result;
}

/** What each process used between two cpuSeconds() readings. */
export function cpuBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, Number(((after[name] ?? 0) - (before[name] ?? 0)).toFixed(2))]));
}

/**
 * The gateway's limits stay on in benchmarks (every operation is priced and charged to its
 * caller's budget), with budgets wide enough for one caller sending thousands a second.
 */
export const BENCH_GATEWAY_BUDGETS: Record<string, string> = {
  RATE_LIMIT_ANONYMOUS: '1000000000/1000000000',
  RATE_LIMIT_MEMBER: '1000000000/1000000000',
  RATE_LIMIT_STAFF: '1000000000/1000000000',
  // Partner clients without their own rateLimitPerMinute (whose maximum, 100,000 cost points a
  // minute, is about 120 purchases a second: far below what one benchmark client sends).
  RATE_LIMIT_PARTNER: '1000000000/1000000000',
};

/** A process and all its descendants (a CLI that forks its workers is charged for all of them). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${tree[i]}/task`)) {
        const children = readFileSync(`/proc/${tree[i]}/task/${task}/children`, 'utf8').trim();
        if (children) tree.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // exited meanwhile
    }
  }
  return tree;
}

/** The failure an answer carries before its payload is read: an HTTP status, an unreadable body, or GraphQL error codes. */
export function failed(status: number, body: Record<string, unknown> | null): string | null {
  const errors = body?.['errors'] as { extensions?: { code?: string } }[] | undefined;
  if (errors?.length) return errors.map((e) => e.extensions?.code ?? 'UNKNOWN').join(',');
  if (status !== 200) return `HTTP ${status}`;
  if (!body?.['data']) return 'no data';
  return null;
}

/** Counts by code, added up over runs. */
export function sumCounts(counts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of counts) for (const [code, n] of Object.entries(c)) total[code] = (total[code] ?? 0) + n;
  return total;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Number(((sorted[mid - 1]! + sorted[mid]!) / 2).toFixed(3));
}

/** One timed run of a target, as the alternating-rounds scenarios record it. */
export interface TimedRun {
  latencyP50Ms: number;
  latencyP99Ms: number;
  requestsPerSecond: number;
  errors: Record<string, number>;
}

/**
 * The medians of each target's runs per connection count (`rate` names the run's own unit rate,
 * e.g. orders or purchases per second), with every error summed: what a scenario reports.
 */
export function medianSummary<K extends string, R extends TimedRun & Record<K, number>>(results: Record<string, Record<string, R[]>>, rate: K) {
  const summarise = (runs: R[]) => ({
    [rate]: median(runs.map((r) => r[rate])),
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    errors: sumCounts(runs.map((r) => r.errors)),
  }) as Record<K, number> & TimedRun;
  return Object.fromEntries(Object.entries(results).map(([target, byConnections]) => [target, Object.fromEntries(Object.entries(byConnections).map(([c, runs]) => [c, summarise(runs)]))]));
}
