import type { FastifyPluginAsync } from 'fastify';
import type { IssuerRegistry } from '../auth/issuers.js';

export interface HealthRoutesOptions {
  readonly issuers: IssuerRegistry;
}

const statusSchema = {
  response: {
    200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
    503: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  },
};

/**
 * GET /healthz: the process answers (liveness).
 * GET /readyz: every trusted issuer's signing keys are loaded, or can be loaded now (readiness);
 * 503 otherwise, naming the issuers whose keys did not load.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { issuers }) => {
  app.get('/healthz', { schema: statusSchema }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: statusSchema }, async (_request, reply) => {
    const missing = await issuers.warm();
    if (missing.length === 0) return { status: 'ready' };
    return reply.code(503).send({ message: `Not ready: the signing keys of ${missing.join(', ')} cannot be loaded` });
  });
  return Promise.resolve();
};
