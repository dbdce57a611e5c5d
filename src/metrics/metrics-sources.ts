import { AggregatorRegistry, Registry } from 'prom-client';

/**
 * Where a scrape's metrics come from. One process: its own registry. WEB_CONCURRENCY > 1: workers keep their own metrics; the primary serves METRICS_PORT and, on each
 * scrape, asks every worker over the cluster IPC channel and sums the answers (prom-client's
 * AggregatorRegistry; gauges declare their own aggregator, e.g. `max` for the key age).
 */

/** A worker's registry, which prom-client sends to the primary when it asks. */
export function workerMetricsRegistry(): Registry {
  const registry = new Registry();
  AggregatorRegistry.setRegistries(registry);
  // Constructing one is what installs prom-client's listener for the primary's requests.
  new AggregatorRegistry();
  return registry;
}

/** In the primary: every connected worker's metrics, combined; rejects if one does not answer in 5 s. */
export function clusterMetricsSource(): { readonly render: () => Promise<string>; readonly contentType: string } {
  const aggregator = new AggregatorRegistry();
  return { render: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}

/** In a single process: this process's registry. */
export function processMetricsSource(): { readonly registry: Registry; readonly render: () => Promise<string>; readonly contentType: string } {
  const registry = new Registry();
  return { registry, render: () => registry.metrics(), contentType: registry.contentType };
}
