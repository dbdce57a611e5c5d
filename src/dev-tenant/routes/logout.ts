import type { FastifyPluginAsync } from 'fastify';
import { decodeJwt } from 'jose';
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

/** The client a logout names: `client_id`, else the audience of `id_token_hint` (OIDC RP-initiated logout). */
function logoutClientId(query: unknown): string | undefined {
  const clientId = parameter(query, 'client_id');
  if (clientId !== undefined) return clientId;
  const hint = parameter(query, 'id_token_hint');
  if (hint === undefined) return undefined;
  try {
    // Only picks whose Allowed Logout URLs apply, so an unverified hint can redirect nowhere new.
    const { aud } = decodeJwt(hint);
    return typeof aud === 'string' ? aud : undefined;
  } catch {
    return undefined;
  }
}

/** Exact match, up to how a URL is written (`http://localhost:4040` is `http://localhost:4040/`). */
function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * GET /v2/logout?client_id&returnTo: ends the tenant session (and revokes its refresh tokens),
 * then redirects only to one of the client's Allowed Logout URLs. Anything else is an error page
 * and the session stays: a bad link must not sign anyone out or redirect anywhere. For OIDC
 * libraries (openid-client's end_session), `post_logout_redirect_uri` is read as `returnTo`, the
 * client may be named by `id_token_hint`, and `state` is passed back.
 */
export const logoutRoutes: FastifyPluginAsync<LogoutRoutesOptions> = async (app, { config, sessions, refreshTokens }) => {
  const logoutUrls = (clientId: string | undefined): { urls: readonly string[]; variable: string } | undefined => {
    if (clientId === config.spa.clientId) return { urls: config.spa.logoutUrls, variable: 'DEV_TENANT_SPA_LOGOUT_URLS' };
    if (clientId === config.web.clientId) return { urls: config.web.logoutUrls, variable: 'CLIENT_ORIGIN_URL' };
    return undefined;
  };
  app.get(LOGOUT_PATH, (request, reply) => {
    const returnTo = parameter(request.query, 'returnTo') ?? parameter(request.query, 'post_logout_redirect_uri');
    if (returnTo !== undefined) {
      const clientId = logoutClientId(request.query);
      const allowed = logoutUrls(clientId);
      if (allowed === undefined) {
        return sendPage(reply, 400, errorPage(`Logout with returnTo needs the client_id of a registered application, got ${clientId ?? 'none'}.`));
      }
      if (!allowed.urls.some((url) => sameUrl(url, returnTo))) {
        return sendPage(reply, 400, errorPage(`${returnTo} is not in the list of Allowed Logout URLs (${allowed.variable}).`));
      }
    }
    const sessionId = request.cookies[SESSION_COOKIE];
    if (sessionId !== undefined) {
      sessions.end(sessionId);
      refreshTokens.revokeSession(sessionId);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax' });
    if (returnTo === undefined) return sendPage(reply, 200, signedOutPage());
    const state = parameter(request.query, 'state');
    const destination = new URL(returnTo);
    if (state !== undefined) destination.searchParams.set('state', state);
    return reply.header('cache-control', 'no-store').redirect(state === undefined ? returnTo : destination.href, 302);
  });
  return Promise.resolve();
};
