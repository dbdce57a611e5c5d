import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers?: Record<string, string>;
  /** Every response body must equal this; others count as mismatches. */
  readonly expectBody?: string;
}

export interface LoadResult {
  /** Mean of autocannon's per-second request counts. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly mismatches: number;
}

/** One autocannon run (programmatic API) against a loopback URL. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const host = new URL(options.url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`refusing non-loopback target ${options.url}`);
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.headers !== undefined && { headers: options.headers }),
    ...(options.expectBody !== undefined && { expectBody: options.expectBody }),
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
  };
}

/** Why a run is not clean (errors, timeouts, non-2xx, wrong bodies), or undefined. */
export function uncleanRun(result: LoadResult): string | undefined {
  const problems = Object.entries({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, mismatches: result.mismatches })
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${String(count)} ${name}`);
  return problems.length === 0 ? undefined : problems.join(', ');
}
