import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for the endpoints a browser app calls directly (/oauth/token, /userinfo): the allowed web
 * origins only, exactly. The SPA SDK sends `Auth0-Client` (hence a preflight); `DPoP` is allowed
 * for sender-constrained tokens; `Authorization` for /userinfo.
 */
export async function registerTenantCors(scope: FastifyInstance, webOrigins: readonly string[]): Promise<void> {
  await scope.register(cors, {
    origin: [...webOrigins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['Content-Type', 'Auth0-Client', 'DPoP', 'Authorization'],
    maxAge: 86_400,
    strictPreflight: false,
  });
}
