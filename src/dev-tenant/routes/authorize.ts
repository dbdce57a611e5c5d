import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { checkAuthorizationRequest } from '../authorization-request.js';
import type { AuthorizationCodeStore } from '../code-store.js';
import type { DevTenantConfig } from '../config.js';
import { errorPage } from '../pages.js';
import { type LoginTransactionStore, SESSION_COOKIE, type Session, type SessionStore } from '../sessions.js';
import { AUTHORIZE_PATH } from './discovery.js';
import { sendAuthorizationResponse, sendCode } from './authorization-response.js';
import { sendPage } from './replies.js';

export const LOGIN_PATH = '/u/login';

export interface AuthorizeRoutesOptions {
  readonly config: DevTenantConfig;
  readonly codes: AuthorizationCodeStore;
  readonly sessions: SessionStore;
  readonly transactions: LoginTransactionStore;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

/** The signed-in session behind the request's cookie, if it is live and its user still configured. */
export function currentSession(
  request: FastifyRequest,
  sessions: SessionStore,
  config: Pick<DevTenantConfig, 'users'>,
  nowSeconds: number,
): Session | undefined {
  const session = sessions.get(request.cookies[SESSION_COOKIE], nowSeconds);
  return session !== undefined && config.users.some((user) => user.userId === session.userId) ? session : undefined;
}

/**
 * GET /authorize: checks the request (authorization-request.ts), then answers from the session
 * (single sign-on), with `login_required` (`prompt=none` and no session, or one older than
 * `max_age`), or by parking the request and sending the browser to the login page.
 */
export const authorizeRoutes: FastifyPluginAsync<AuthorizeRoutesOptions> = async (app, options) => {
  const { config, codes, sessions, transactions, now } = options;
  app.get(AUTHORIZE_PATH, (request, reply) => {
    const check = checkAuthorizationRequest(request.query, config);
    if (!check.ok) {
      if (check.kind === 'page') return sendPage(reply, 400, errorPage(check.message));
      return sendAuthorizationResponse(reply, check.destination, { error: check.error, error_description: check.description });
    }
    const authorization = check.request;
    const nowSeconds = now();
    const live = currentSession(request, sessions, config, nowSeconds);
    // OIDC max_age: a session signed in longer ago does not count; the user signs in again.
    const session =
      live !== undefined && authorization.maxAge !== undefined && nowSeconds - live.authTime > authorization.maxAge ? undefined : live;
    if (authorization.prompt === 'none') {
      if (session === undefined) {
        return sendAuthorizationResponse(reply, authorization, { error: 'login_required', error_description: 'Login required' });
      }
      return sendCode(reply, codes, authorization, session, nowSeconds);
    }
    if (session !== undefined && authorization.prompt !== 'login' && authorization.screenHint !== 'signup') {
      return sendCode(reply, codes, authorization, session, nowSeconds);
    }
    const transaction = transactions.start(authorization, nowSeconds);
    return reply.header('cache-control', 'no-store').redirect(`${LOGIN_PATH}?${new URLSearchParams({ state: transaction }).toString()}`, 302);
  });
  return Promise.resolve();
};
