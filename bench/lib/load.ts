import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers?: Record<string, string>;
  /** Every response body must equal this; others count as mismatches. */
  readonly expectBody?: string;
  /**
   * DPoP proofs, one per request in the `DPoP` header: the run sends exactly this many requests
   * (autocannon's `amount`, so `durationSeconds` is ignored) and rps is requests / elapsed time.
   */
  readonly dpopProofs?: readonly string[];
  /**
   * Authorization header values, one per request (distinct tokens): the run sends exactly this
   * many requests, like `dpopProofs`. Not together with `dpopProofs`.
   */
  readonly authorizations?: readonly string[];
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
  // One value per request, in the header it belongs to.
  const proofs = options.dpopProofs ?? options.authorizations;
  const perRequestHeader = options.dpopProofs === undefined ? 'authorization' : 'dpop';
  let next = 0;
  // autocannon refuses expectBody beside `requests`: a run with per-request headers compares bodies itself.
  let bodyMismatches = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.headers !== undefined && { headers: options.headers }),
    ...(proofs === undefined
      ? { duration: options.durationSeconds, ...(options.expectBody !== undefined && { expectBody: options.expectBody }) }
      : {
          amount: proofs.length,
          requests: [{
            setupRequest: (request) => ({ ...request, headers: { ...request.headers, [perRequestHeader]: proofs[next++ % proofs.length] ?? '' } }),
            onResponse: (_status, body) => { if (options.expectBody !== undefined && body !== options.expectBody) bodyMismatches += 1; },
          }],
        }),
  });
  return {
    rps: proofs === undefined ? result.requests.average : result.requests.total / Math.max(0.001, result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches + bodyMismatches,
  };
}

/** Why a run is not clean (errors, timeouts, non-2xx, wrong bodies), or undefined. */
export function uncleanRun(result: LoadResult): string | undefined {
  const problems = Object.entries({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, mismatches: result.mismatches })
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${String(count)} ${name}`);
  return problems.length === 0 ? undefined : problems.join(', ');
}
