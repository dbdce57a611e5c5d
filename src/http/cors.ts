import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for the one browser app in CLIENT_ORIGIN_URL, never `*`. The Hello World SPAs send
 * `Content-Type` even on GETs, so preflights must allow it alongside `Authorization`, and `DPoP`
 * for DPoP clients (auth0-spa-js `useDpop`). Those clients read `WWW-Authenticate` and
 * `DPoP-Nonce` to retry with a nonce, so both are exposed.
 */
export async function registerCors(app: FastifyInstance, clientOriginUrl: string): Promise<void> {
  await app.register(cors, {
    origin: clientOriginUrl,
    methods: ['GET'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP'],
    exposedHeaders: ['WWW-Authenticate', 'DPoP-Nonce'],
    maxAge: 86_400,
    // A bare OPTIONS (no Origin) gets 204 instead of the plugin's text/plain 400: every body stays JSON.
    strictPreflight: false,
  });
}
