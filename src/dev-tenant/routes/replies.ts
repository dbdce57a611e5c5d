import type { FastifyReply } from 'fastify';
import type { OAuthError } from '../oauth-params.js';
import type { Page } from '../pages.js';

/** How the tenant's routes answer: OAuth JSON errors and HTML pages with their own CSP. */

export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply.code(error.status).send(error.body);
}

export function sendPage(reply: FastifyReply, status: number, page: Page): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', page.csp)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    // same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null` and the login CSRF check fails.
    .header('referrer-policy', 'same-origin')
    .send(page.html);
}

/** Token and userinfo answers carry credentials: never cached (RFC 6749 §5.1). */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
