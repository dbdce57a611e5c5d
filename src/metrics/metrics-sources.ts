import { AggregatorRegistry, Registry } from 'prom-client';

/**
 * Where a scrape's metrics come from. One process: its own registry. WEB_CONCURRENCY > 1: workers
 * keep their own metrics; the primary serves METRICS_PORT and, on each scrape, asks every worker
 * over the cluster IPC channel and sums the answers (prom-client's AggregatorRegistry; a gauge may
 * declare another aggregator, e.g. `max` for the key age).
 */
export interface MetricsSource {
  /** The metrics in the Prometheus text format. */
  readonly render: () => Promise<string>;
  readonly contentType: string;
}

/** In a single process: a registry for the API, rendered as is. */
export function processMetricsSource(): MetricsSource & { readonly registry: Registry } {
  const registry = new Registry();
  return { registry, render: () => registry.metrics(), contentType: registry.contentType };
}

/** In the primary: every connected worker's metrics, combined; rejects if one does not answer in 5 s. */
export function clusterMetricsSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return { render: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}

/** In a worker: a registry for the API, which prom-client sends to the primary when it asks. */
export function workerMetricsRegistry(): Registry {
  const registry = new Registry();
  AggregatorRegistry.setRegistries(registry);
  // Constructing one is what installs prom-client's listener for the primary's requests.
  new AggregatorRegistry();
  return registry;
}
