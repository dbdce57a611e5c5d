import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry, collectDefaultMetrics } from 'prom-client';
import type { RemoteKeySet } from '../auth/key-set.js';
import type { TokenCache } from '../auth/token-cache.js';
import { HttpError } from '../errors/http-errors.js';
import { refusalReason } from './refusal-reason.js';

export interface MetricsOptions {
  /** Where the metrics live; the scrape endpoint (src/metrics/metrics-server.ts) renders it. */
  readonly registry: Registry;
  /** The key set of each trusted issuer, by issuer (`iss`): JWKS fetches and key age per issuer. */
  readonly keySets: ReadonlyMap<string, RemoteKeySet>;
  /** The verified-token cache, or null when it is off (its metrics are then absent). */
  readonly tokenCache: TokenCache | null;
  /** Clock for the key age, in ms since the epoch; default Date.now (the key sets' own default). */
  readonly now?: () => number;
}

/** The `route` label of requests that matched no route (404, 405): one value, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds. Most answers take well under a millisecond to a few; a JWKS fetch can take seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics for the API, registered only when metrics are on. The request path gets two
 * hooks: onResponse (one histogram observation) and onError (a counter, on refusals only). Key set
 * and token cache numbers are plain counters those classes keep anyway, read here at scrape time
 * by collect() callbacks, so verifying a token makes no metrics call.
 *
 * Labels are bounded: `route` is the route pattern, never the URL (unknown paths share one value);
 * `reason`, `outcome` and `method` come from closed sets; `issuer` from the configuration.
 * No label or value ever holds a token, a header or a raw URL.
 */
export function registerMetrics(app: FastifyInstance, options: MetricsOptions): void {
  const { registry, keySets, tokenCache } = options;
  const now = options.now ?? Date.now;
  const registers = [registry];

  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request, by route pattern, method and status; _count counts requests',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const refusals = new Counter({
    name: 'auth_refusals_total',
    help: 'Requests refused for their credentials or permissions (or because the signing keys were unavailable), by reason',
    labelNames: ['reason'] as const,
    registers,
  });

  new Counter({
    name: 'jwks_fetches_total',
    help: 'Fetches of the signing keys (JWKS), by issuer and outcome (ok or the failure code)',
    labelNames: ['issuer', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const [issuer, keySet] of keySets) {
        for (const [outcome, count] of keySet.facts().fetchOutcomes) this.inc({ issuer, outcome }, count);
      }
    },
  });
  new Gauge({
    name: 'jwks_keys_age_seconds',
    help: 'Age of the signing keys in use, by issuer (absent until the first successful fetch)',
    labelNames: ['issuer'] as const,
    // Across workers, the oldest keys any worker uses.
    aggregator: 'max',
    registers,
    collect() {
      this.reset();
      for (const [issuer, keySet] of keySets) {
        const { fetchedAt } = keySet.facts();
        if (fetchedAt !== undefined) this.set({ issuer }, Math.max(0, now() - fetchedAt) / 1000);
      }
    },
  });

  if (tokenCache !== null) {
    new Counter({
      name: 'token_cache_hits_total',
      help: 'Token checks answered from the verified-token cache',
      registers,
      collect() {
        this.reset();
        this.inc(tokenCache.hits);
      },
    });
    new Counter({
      name: 'token_cache_misses_total',
      help: 'Token checks that verified the token (not cached, expired, or its key due for refresh)',
      registers,
      collect() {
        this.reset();
        this.inc(tokenCache.misses);
      },
    });
    new Gauge({
      name: 'token_cache_entries',
      help: 'Verified tokens held in the cache',
      registers,
      collect() {
        this.set(tokenCache.size);
      },
    });
  }

  app.addHook('onResponse', function observeResponse(request, reply, done) {
    requestDuration.observe(
      { route: request.routeOptions.url ?? UNMATCHED_ROUTE, method: request.method, status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.addHook('onError', function countRefusal(_request, _reply, error, done) {
    const reason = error instanceof HttpError ? refusalReason(error) : null;
    if (reason !== null) refusals.inc({ reason });
    done();
  });
}
