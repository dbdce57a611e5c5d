import type { FastifyPluginAsync } from 'fastify';
import type { RemoteKeySet } from '../auth/key-set.js';

export interface HealthRoutesOptions {
  readonly keySet: RemoteKeySet;
}

const statusSchema = {
  response: {
    200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
    503: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  },
};

/**
 * GET /healthz: the process answers (liveness).
 * GET /readyz: the signing keys are loaded, or can be loaded now (readiness); 503 otherwise.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { keySet }) => {
  app.get('/healthz', { schema: statusSchema }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: statusSchema }, async (_request, reply) => {
    if (await keySet.warm()) return { status: 'ready' };
    return reply.code(503).send({ message: 'Not ready: the signing keys cannot be loaded' });
  });
  return Promise.resolve();
};
