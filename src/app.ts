import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { createAuthenticator } from './auth/authenticate.js';
import { DpopNonces } from './auth/dpop-nonce.js';
import { IssuerRegistry } from './auth/issuers.js';
import { MEMORY_START_MARGIN_MS, MemoryReplayStore, type ReplayStore } from './auth/replay-store.js';
import { TokenCache } from './auth/token-cache.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import type { Config } from './config/config.js';
import { ReplayStoreUnavailableError } from './errors/http-errors.js';
import { registerErrorHandling, sendError } from './errors/error-handler.js';
import { healthRoutes } from './health/routes.js';
import { clientErrorHandler } from './http/client-errors.js';
import { GracefulShutdown } from './http/graceful-shutdown.js';
import { registerCors } from './http/cors.js';
import { echoRequestId, loggerOptions, requestIdFor } from './http/logging.js';
import { registerOpenApi } from './http/openapi.js';
import { protectedResourceFor, protectedResourceRoutes } from './http/protected-resource.js';
import { refuseRequestBodies } from './http/request-body.js';
import { SECURITY_HEADERS, registerSecurityHeaders } from './http/security-headers.js';
import { messageRoutes } from './messages/routes.js';

export interface AppOptions {
  /** Issuers and key sets built by the caller (tests tune their timings); by default from config.auth. */
  readonly issuers?: IssuerRegistry;
  /** Where log lines go instead of stdout (tests read them). */
  readonly logStream?: { write(line: string): void };
  /** Drains and closes the server on a signal (src/server.ts); by default one without a drain window. */
  readonly shutdown?: GracefulShutdown;
  /** Turns metrics on: they are registered here (src/metrics/). Without it the request path has no metrics hook. */
  readonly metricsRegistry?: Registry;
  /**
   * When the in-memory replay store's memory starts (ms since the epoch); by default this process's
   * start, since a proof an earlier process accepted is older. Tests not about restarts set it earlier.
   */
  readonly replayStoreStartedAt?: number;
}

/** Timeouts that stop slow or idle clients from holding sockets (slowloris). */
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node looks for requests past REQUEST_TIMEOUT_MS; its default (30 s) would let one live 40 s. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Builds the API. A request flows: request id + logging -> security headers -> no-body check -> CORS ->
 * (on /api/messages/protected|admin) `authorize` (Bearer or DPoP, authenticate.ts) -> handler;
 * any error -> error-handler.ts. With metrics on, onError counts refusals and onResponse times
 * every answer (src/metrics/register-metrics.ts).
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { ...loggerOptions(config.logLevel), ...(options.logStream && { stream: options.logStream }) },
    genReqId: requestIdFor,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Repeated Authorization headers are joined with ", " instead of Node's default of keeping the
    // first: `authorize` then refuses them (400) where a proxy reading the last one would disagree.
    http: { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS, joinDuplicateHeaders: true },
    // 431/408/400 from Node's parser answered as {"message"} like every other error.
    clientErrorHandler,
    // Requests already on open connections are served while shutting down, not refused.
    return503OnClosing: false,
    // `/api/messages/public/` is the same resource; answering it beats a surprising 404.
    routerOptions: { ignoreTrailingSlash: true },
    // Errors before routing (a URL that does not decode): no hook has run, so add their headers here.
    frameworkErrors: (error, request, reply) => {
      sendError(error, request, reply.headers(SECURITY_HEADERS).header('x-request-id', request.id));
    },
  });

  const issuers =
    options.issuers ??
    IssuerRegistry.fromConfig(config.auth, {
      onFetch: (issuer, event) => {
        if (event.ok) app.log.info({ issuer, kids: event.kids, durationMs: event.durationMs }, 'signing keys loaded');
        else app.log.warn({ issuer, code: event.error.code, err: event.error, durationMs: event.durationMs }, 'signing keys could not be loaded');
      },
    });
  const tokenCache = TokenCache.create(config.tokenCache);
  const verifier = createTokenVerifier({ auth: config.auth, issuers, cache: tokenCache });
  // Without DPOP_NONCE, the in-memory store asks a proof dated ahead for a nonce of this process
  // (authenticate.ts): then nothing accepted before a restart can pass as made after it.
  const futureProofNonces =
    config.dpop.nonceSecret === null && config.dpop.redisUrl === null ? new DpopNonces(randomBytes(32).toString('base64url')) : null;
  const replayStartedAt = options.replayStoreStartedAt ?? performance.timeOrigin;
  const replayStore = await createReplayStore(config, app, replayStartedAt, futureProofNonces !== null);
  if (futureProofNonces !== null) {
    // iat counts whole seconds: a proof dated in the second this process started may be one an
    // earlier process accepted. Listening only once that second is over (0 to 1 s, less the time
    // start-up took), no client's fresh proof can be dated in it.
    app.addHook('onReady', async () => {
      await sleep(Math.max(0, Math.ceil(replayStartedAt / 1000) * 1000 - Date.now()));
    });
  }
  app.addHook('onClose', () => replayStore.close());
  // RFC 9728: built once; its URL goes into every challenge.
  const protectedResource = protectedResourceFor(config);
  const authenticator = createAuthenticator({
    verifier,
    resourceMetadataUrl: protectedResource.metadataUrl,
    dpop: config.dpop,
    replayStore,
    nonces: config.dpop.nonceSecret === null ? null : new DpopNonces(config.dpop.nonceSecret),
    futureProofNonces,
  });

  // Load every issuer's signing keys as soon as the server listens so the first request does not
  // wait. A failure is not fatal: that issuer's tokens get 503 and /readyz says so until keys load.
  app.addHook('onListen', (done) => {
    void issuers.warm();
    done();
  });

  // Before any route (CORS adds one): routes keep the error handler in force when they are added.
  const routeMissError = registerErrorHandling(app);
  // Security headers first, then the request id and the no-body rule, then CORS (which answers
  // preflights itself): every answer, preflights and refusals included, carries the headers and
  // the id, and a body is refused before anything else reads the request.
  registerSecurityHeaders(app);
  echoRequestId(app);
  refuseRequestBodies(app, routeMissError);
  if (options.metricsRegistry !== undefined) {
    // Loaded only when metrics are on: prom-client costs start-up time otherwise.
    const { registerMetrics } = await import('./metrics/register-metrics.js');
    const keySets = new Map(issuers.all.map(({ issuer, keySet }) => [issuer, keySet]));
    registerMetrics(app, { registry: options.metricsRegistry, keySets, tokenCache });
  }
  await registerCors(app, config.clientOriginUrl);
  // Before the routes, so it sees them (src/schemas/); GET /openapi.json.
  await registerOpenApi(app);
  const shutdown = options.shutdown ?? new GracefulShutdown({ drainMs: 0 });
  shutdown.attach(app);
  await app.register(healthRoutes, { issuers, isShuttingDown: () => shutdown.draining });
  await app.register(protectedResourceRoutes, { metadata: protectedResource });
  await app.register(messageRoutes, { prefix: '/api/messages', authenticator });
  return app;
}

/** Redis when REDIS_URL is set (loaded only then), else a bounded store in this process. */
async function createReplayStore(config: Config, app: FastifyInstance, startedAt: number, futureProofsNeedNonce: boolean): Promise<ReplayStore> {
  const maxPerKey = config.dpop.replayMaxPerKey;
  if (config.dpop.redisUrl === null) {
    const startMarginMs = futureProofsNeedNonce ? 0 : MEMORY_START_MARGIN_MS;
    return new MemoryReplayStore(config.dpop.replayMaxEntries, () => new ReplayStoreUnavailableError(), { maxPerKey, startedAt, startMarginMs });
  }
  const { RedisReplayStore } = await import('./auth/redis-replay-store.js');
  return new RedisReplayStore(config.dpop.redisUrl, {
    maxPerKey,
    onState: (state, error) => {
      if (state === 'ready') app.log.info('DPoP replay store (Redis) connected');
      else app.log.warn({ err: error }, 'DPoP replay store (Redis) unreachable: DPoP requests answer 503 until it is back');
    },
  });
}
