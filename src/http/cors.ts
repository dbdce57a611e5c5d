import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for the one browser app in CLIENT_ORIGIN_URL, never `*`. The Hello World SPAs send
 * `Content-Type` even on GETs, so preflights must allow it alongside `Authorization`.
 */
export async function registerCors(app: FastifyInstance, clientOriginUrl: string): Promise<void> {
  await app.register(cors, {
    origin: clientOriginUrl,
    methods: ['GET'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 86_400,
    // A bare OPTIONS (no Origin) gets 204 instead of the plugin's text/plain 400: every body stays JSON.
    strictPreflight: false,
  });
}
