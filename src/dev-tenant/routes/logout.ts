import type { FastifyPluginAsync } from 'fastify';
import type { DevTenantConfig } from '../config.js';
import { parameter } from '../oauth-params.js';
import { errorPage, signedOutPage } from '../pages.js';
import type { RefreshTokenStore } from '../refresh-tokens.js';
import { SESSION_COOKIE, type SessionStore } from '../sessions.js';
import { LOGOUT_PATH } from './discovery.js';
import { sendPage } from './replies.js';

export interface LogoutRoutesOptions {
  readonly config: DevTenantConfig;
  readonly sessions: SessionStore;
  readonly refreshTokens: RefreshTokenStore;
}

/**
 * GET /v2/logout?client_id&returnTo: ends the tenant session (and revokes its refresh tokens),
 * then redirects only to one of the client's Allowed Logout URLs, matched exactly. Anything else
 * is an error page and the session stays: a bad link must not sign anyone out or redirect anywhere.
 * `post_logout_redirect_uri` is read as `returnTo` for OIDC libraries.
 */
export const logoutRoutes: FastifyPluginAsync<LogoutRoutesOptions> = async (app, { config, sessions, refreshTokens }) => {
  app.get(LOGOUT_PATH, (request, reply) => {
    const returnTo = parameter(request.query, 'returnTo') ?? parameter(request.query, 'post_logout_redirect_uri');
    if (returnTo !== undefined) {
      const clientId = parameter(request.query, 'client_id');
      if (clientId !== config.spa.clientId) {
        return sendPage(reply, 400, errorPage(`Logout with returnTo needs the client_id of a registered application, got ${clientId ?? 'none'}.`));
      }
      if (!config.spa.logoutUrls.includes(returnTo)) {
        return sendPage(
          reply,
          400,
          errorPage(`${returnTo} is not in the list of Allowed Logout URLs (DEV_TENANT_SPA_LOGOUT_URLS).`),
        );
      }
    }
    const sessionId = request.cookies[SESSION_COOKIE];
    if (sessionId !== undefined) {
      sessions.end(sessionId);
      refreshTokens.revokeSession(sessionId);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax' });
    if (returnTo === undefined) return sendPage(reply, 200, signedOutPage());
    return reply.header('cache-control', 'no-store').redirect(returnTo, 302);
  });
  return Promise.resolve();
};
