import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { RemoteKeySet } from './auth/key-set.js';
import { TokenCache } from './auth/token-cache.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import type { Config } from './config/config.js';
import { BadRequestError } from './errors/http-errors.js';
import { registerErrorHandling, sendError } from './errors/error-handler.js';
import { healthRoutes } from './health/routes.js';
import { clientErrorHandler } from './http/client-errors.js';
import { registerCors } from './http/cors.js';
import { loggerOptions, requestIdFor } from './http/logging.js';
import { SECURITY_HEADERS, registerSecurityHeaders } from './http/security-headers.js';
import { messageRoutes } from './messages/routes.js';

export interface AppOptions {
  /** A key set built by the caller (tests tune its timings); by default one for config.auth.jwksUri. */
  readonly keySet?: RemoteKeySet;
  /** Where log lines go instead of stdout (tests read them). */
  readonly logStream?: { write(line: string): void };
  /** Turns metrics on: they are registered here (src/metrics/). Without it the request path has no metrics hook. */
  readonly metricsRegistry?: Registry;
}

/** Timeouts that stop slow or idle clients from holding sockets (slowloris). */
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node looks for requests past REQUEST_TIMEOUT_MS; its default (30 s) would let one live 40 s. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Builds the API. A request flows: request id + logging -> security headers -> no-body check -> CORS ->
 * (on /api/messages/protected|admin) `authorize` -> handler; any error -> error-handler.ts. With
 * metrics on, onError counts refusals and onResponse times every answer (src/metrics/register-metrics.ts).
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { ...loggerOptions(config.logLevel), ...(options.logStream && { stream: options.logStream }) },
    genReqId: requestIdFor,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
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

  const keySet =
    options.keySet ??
    new RemoteKeySet({
      jwksUri: config.auth.jwksUri,
      onFetch: (event) => {
        if (event.ok) app.log.info({ kids: event.kids, durationMs: event.durationMs }, 'signing keys loaded');
        else app.log.warn({ code: event.error.code, err: event.error, durationMs: event.durationMs }, 'signing keys could not be loaded');
      },
    });
  const tokenCache = TokenCache.create(config.tokenCache);
  const verifier = createTokenVerifier({ auth: config.auth, keySet, cache: tokenCache });

  // Load the signing keys as soon as the server listens so the first request does not wait.
  // A failure is not fatal: protected routes answer 503 and /readyz says so until keys load.
  app.addHook('onListen', (done) => {
    void keySet.warm();
    done();
  });

  // Before any route (CORS adds one): routes keep the error handler in force when they are added.
  registerErrorHandling(app);
  // Security headers first, then the request id and the no-body rule, then CORS (which answers
  // preflights itself): every answer, preflights and refusals included, carries the headers and
  // the id, and a body is refused before anything else reads the request.
  registerSecurityHeaders(app);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // These routes take no body; refuse one rather than read it, and close the connection so
    // the unread body is not drained until the request timeout.
    if (request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0) {
      reply.header('connection', 'close');
      done(new BadRequestError('Request bodies are not accepted'));
      return;
    }
    done();
  });
  if (options.metricsRegistry !== undefined) {
    // Loaded only when metrics are on: prom-client costs start-up time otherwise.
    const { registerMetrics } = await import('./metrics/register-metrics.js');
    registerMetrics(app, { registry: options.metricsRegistry, keySets: new Map([[config.auth.issuer, keySet]]), tokenCache });
  }
  await registerCors(app, config.clientOriginUrl);
  await app.register(healthRoutes, { keySet });
  await app.register(messageRoutes, { prefix: '/api/messages', verifier });
  return app;
}
