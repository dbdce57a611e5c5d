import type { FastifyPluginAsync } from 'fastify';
import type { RemoteKeySet } from '../auth/key-set.js';
import { healthSchema } from '../schemas/health.js';

export interface HealthRoutesOptions {
  readonly keySet: RemoteKeySet;
  /** True once shutdown has begun: /readyz answers 503 so load balancers stop sending. */
  readonly isShuttingDown: () => boolean;
}

/**
 * GET /healthz: the process answers (liveness).
 * GET /readyz: the signing keys are loaded, or can be loaded now (readiness); 503 otherwise, and
 * from the moment a shutdown begins.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { keySet, isShuttingDown }) => {
  app.get('/healthz', { schema: healthSchema }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: healthSchema }, async (_request, reply) => {
    if (isShuttingDown()) return reply.code(503).send({ message: 'Not ready: shutting down' });
    if (await keySet.warm()) return { status: 'ready' };
    return reply.code(503).send({ message: 'Not ready: the signing keys cannot be loaded' });
  });
  return Promise.resolve();
};
