import type { FastifyPluginAsync } from 'fastify';
import type { IssuerRegistry } from '../auth/issuers.js';
import { healthSchema } from '../schemas/health.js';

export interface HealthRoutesOptions {
  readonly issuers: IssuerRegistry;
  /** True once shutdown has begun: /readyz answers 503 so load balancers stop sending. */
  readonly isShuttingDown: () => boolean;
}

/**
 * GET /healthz: the process answers (liveness).
 * GET /readyz: every trusted issuer's signing keys are loaded, or can be loaded now (readiness);
 * 503 otherwise, naming the issuers whose keys did not load, and from the moment a shutdown begins.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { issuers, isShuttingDown }) => {
  app.get('/healthz', { schema: healthSchema }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: healthSchema }, async (_request, reply) => {
    if (isShuttingDown()) return reply.code(503).send({ message: 'Not ready: shutting down' });
    const missing = await issuers.warm();
    if (missing.length === 0) return { status: 'ready' };
    return reply.code(503).send({ message: `Not ready: the signing keys of ${missing.join(', ')} cannot be loaded` });
  });
  return Promise.resolve();
};
