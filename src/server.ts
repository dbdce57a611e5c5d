import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { buildApp } from './app.js';
import { ConfigError } from './config/config.js';
import { startupSummaryLine, startupWarnings } from './config/startup-summary.js';
import { type DevTenants, extraIssuerLines, formatDevTenantBanner, startDevTenants } from './dev-tenant/index.js';
import { GracefulShutdown } from './http/graceful-shutdown.js';
import type { MetricsServer } from './metrics/metrics-server.js';
import { type ServerConfig as Config, loadConfig } from './server-config.js';

/**
 * Process entry: config, then (without AUTH0_DOMAIN) the dev tenant, then the API, in one process
 * or in WEB_CONCURRENCY workers. The dev tenant always lives in the primary process; workers get
 * its URL as AUTH0_DOMAIN and verify its tokens like any tenant's, over HTTP. With METRICS_PORT,
 * the process that owns the others (the single process, or the primary) serves the metrics.
 */

/** After the drain window, how long closing may take before the process gives up on in-flight requests. */
const CLOSE_GRACE_MS = 10_000;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** One line for a failure to start: what a socket error means for `variable`, else the error's own message. */
function startFailure(error: unknown, variable: string, port: number): string {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall === 'listen' || syscall === 'bind' || syscall === 'getaddrinfo') {
    if (code === 'EADDRINUSE') return `${variable} ${port} is already in use; stop the other process or choose another port`;
    if (code === 'EACCES') return `${variable} ${port} needs privileges this process does not have; choose a port above 1023`;
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return 'HOST cannot be bound on this machine';
    return `could not listen on ${variable} ${port} (${code ?? 'unknown error'})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function onShutdownSignal(config: Config, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), config.shutdownDrainSeconds * 1000 + CLOSE_GRACE_MS).unref();
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

async function startDevTenantOrExit(config: Config): Promise<DevTenants | null> {
  if (config.devTenant === null) return null;
  try {
    return await startDevTenants(config.devTenant);
  } catch (error) {
    const { syscall } = error as NodeJS.ErrnoException;
    // A file-system error (mkdir, open...) comes from the keys folder.
    if (typeof syscall === 'string' && !['listen', 'bind', 'getaddrinfo'].includes(syscall)) {
      return fail(`DEV_TENANT_KEYS_DIR ${config.devTenant.keysDir} cannot be used: ${(error as Error).message}`);
    }
    // An extra issuer (DEV_TENANT_EXTRA_ISSUERS) listens on a later port: name the one that failed.
    const { port } = error as { port?: unknown };
    return fail(startFailure(error, 'DEV_TENANT_PORT', typeof port === 'number' ? port : config.devTenant.port));
  }
}

/**
 * Serves METRICS_PORT when it is set: this process's metrics (`registry` for the API), or, in a
 * primary, every worker's summed. Exits with one line if the port cannot be bound.
 */
async function startMetricsOrExit(
  config: Config,
  scope: 'process' | 'cluster',
): Promise<{ readonly registry?: Registry; readonly server: MetricsServer } | null> {
  if (config.metricsPort === null) return null;
  // Loaded only when metrics are on, like the dev tenant.
  const [{ startMetricsServer }, sources] = await Promise.all([
    import('./metrics/metrics-server.js'),
    import('./metrics/metrics-sources.js'),
  ]);
  const source = scope === 'process' ? sources.processMetricsSource() : sources.clusterMetricsSource();
  try {
    const server = await startMetricsServer({
      host: config.host,
      port: config.metricsPort,
      ...source,
      onRenderError: (error) => { console.error('metrics scrape failed:', error); },
    });
    return { ...source, server };
  } catch (error) {
    return fail(startFailure(error, 'METRICS_PORT', config.metricsPort));
  }
}

/** Once the API listens on `port` (the real one, also with PORT=0): the dev tenant banner, or in production one summary line. */
function announceStart(config: Config, tenant: DevTenants | null, port: number): void {
  if (tenant !== null && config.devTenant !== null) {
    const apiUrl = `http://localhost:${port}`;
    const banner = formatDevTenantBanner({
      apiUrl,
      tenantUrl: tenant.url,
      config: config.devTenant,
      dpopMode: config.dpop.mode,
      extraIssuerLines: extraIssuerLines(tenant.urls),
    });
    process.stderr.write(`${banner}\n`);
  } else if (config.production) {
    process.stdout.write(`${startupSummaryLine(config, port)}\n`);
    for (const warning of startupWarnings(config)) process.stderr.write(`${warning}\n`);
  }
}

interface RunningApi {
  readonly port: number;
  /** Drains (SHUTDOWN_DRAIN_SECONDS), then closes; resolves when every response is sent. */
  readonly stop: () => Promise<void>;
}

/** Runs the API in this process; resolves once it listens. */
async function serveApi(config: Config, metricsRegistry?: Registry): Promise<RunningApi> {
  const shutdown = new GracefulShutdown({ drainMs: config.shutdownDrainSeconds * 1000 });
  const app = await buildApp(config, { shutdown, ...(metricsRegistry !== undefined && { metricsRegistry }) });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    fail(startFailure(error, 'PORT', config.port));
  }
  const address = app.server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : config.port, stop: () => shutdown.run() };
}

async function runSingleProcess(config: Config): Promise<void> {
  const tenant = await startDevTenantOrExit(config);
  const metrics = await startMetricsOrExit(config, 'process');
  const api = await serveApi(config, metrics?.registry);
  announceStart(config, tenant, api.port);
  onShutdownSignal(config, async () => {
    await api.stop();
    await metrics?.server.close();
    await tenant?.close();
  });
}

async function runPrimary(config: Config): Promise<void> {
  const tenant = await startDevTenantOrExit(config);
  const metrics = await startMetricsOrExit(config, 'cluster');
  const workerEnv: Record<string, string> =
    tenant === null ? {} : { AUTH0_DOMAIN: tenant.urls.join(','), AUTH0_AUDIENCE: config.auth.audience };
  let stopping = false;
  let listening = 0;

  // Workers accept from the one shared listening socket (SCHED_NONE) instead of Node's default
  // round-robin, where the primary accepts and passes each connection to a worker over IPC: a
  // connection in flight to a worker that dies stays in the primary, unanswered, until the client
  // gives up (issue 15: one hung request per killed worker, held in CLOSE-WAIT). With a shared
  // socket, what a dead worker had not accepted stays in the kernel's queue and a live worker
  // accepts it. Not SO_REUSEPORT: it gives each worker its own queue, dropped when that worker dies.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (): void => {
    cluster.fork(workerEnv);
  };
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === config.workers) announceStart(config, tenant, address.port);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`worker ${String(worker.process.pid)} exited (${signal || String(code)}); starting a new one`);
    // A worker that cannot even start (bad port...) would loop; it exits with 1 before listening.
    if (code === 1 && listening === 0) fail('workers could not start; see the line above');
    fork();
  });
  for (let i = 0; i < config.workers; i += 1) fork();

  onShutdownSignal(config, async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => { resolve(); });
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await metrics?.server.close();
    await tenant?.close();
  });
}

async function runWorker(config: Config): Promise<void> {
  // The primary serves METRICS_PORT and asks each worker for its registry over IPC.
  const metricsRegistry =
    config.metricsPort === null ? undefined : (await import('./metrics/metrics-sources.js')).workerMetricsRegistry();
  const api = await serveApi(config, metricsRegistry);
  onShutdownSignal(config, api.stop);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  if (cluster.isWorker) await runWorker(config);
  else if (config.workers > 1) await runPrimary(config);
  else await runSingleProcess(config);
}

main().catch((error: unknown) => {
  console.error('failed to start:', error);
  process.exit(1);
});
