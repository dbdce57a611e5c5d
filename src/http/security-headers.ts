import type { FastifyInstance } from 'fastify';

/**
 * The headers Auth0's Hello World samples send: a JSON API is never framed, sniffed, cached or
 * allowed to load anything. HSTS only has effect over HTTPS (behind a TLS-terminating proxy).
 *
 * These are exactly the headers helmet produced for this API's options (CSP `default-src 'none';
 * frame-ancestors 'none'`, frameguard deny, HSTS one year with subdomains, no-referrer, nosniff,
 * every other helmet header off), written out once. @fastify/helmet rebuilt the helmet middleware,
 * re-parsing the CSP directives, on every request in two extra hooks: about 7 % of the CPU of a
 * protected request in the profile (see BENCHMARKS.md). The set is fixed, so nothing is lost.
 * Fastify never sends X-Powered-By, which helmet's hidePoweredBy removed.
 */
export const SECURITY_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
});

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}
