import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { callbackOrigin } from '../authorization-request.js';
import type { AuthorizationCodeStore } from '../code-store.js';
import type { DevTenantConfig } from '../config.js';
import { parameter } from '../oauth-params.js';
import { errorPage, loginPage } from '../pages.js';
import type { RefreshTokenStore } from '../refresh-tokens.js';
import { type LoginTransactionStore, SESSION_COOKIE, type SessionStore } from '../sessions.js';
import { sendCode } from './authorization-response.js';
import { LOGIN_PATH } from './authorize.js';
import { sendPage } from './replies.js';

export interface LoginRoutesOptions {
  readonly config: DevTenantConfig;
  readonly codes: AuthorizationCodeStore;
  readonly sessions: SessionStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly transactions: LoginTransactionStore;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

const EXPIRED = 'This login page has expired or was already used. Start again from the application.';

/**
 * A form posted by a page of this tenant: the browser's `Origin` names the tenant itself. Stops
 * another site from signing a visitor in (login CSRF); the Host is loopback (checked for every request).
 */
function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return origin !== undefined && origin === `http://${request.headers.host ?? ''}`;
}

/** GET /u/login shows one button per user; POST signs in as that user and completes the /authorize it came from. */
export const loginRoutes: FastifyPluginAsync<LoginRoutesOptions> = async (app, options) => {
  const { config, codes, sessions, refreshTokens, transactions, now } = options;

  app.get(LOGIN_PATH, (request, reply) => {
    const transaction = parameter(request.query, 'state');
    const authorization = transactions.get(transaction, now());
    if (transaction === undefined || authorization === undefined) return sendPage(reply, 400, errorPage(EXPIRED));
    return sendPage(
      reply,
      200,
      loginPage({
        users: config.users,
        transaction,
        signup: authorization.screenHint === 'signup',
        callbackOrigin: callbackOrigin(authorization.redirectUri),
      }),
    );
  });

  app.post(LOGIN_PATH, (request, reply) => {
    if (!isSameOrigin(request)) return sendPage(reply, 403, errorPage('Log in from the login page of this tenant.'));
    const transaction = parameter(request.body, 'state');
    const nowSeconds = now();
    const authorization = transactions.get(transaction, nowSeconds);
    if (transaction === undefined || authorization === undefined) return sendPage(reply, 400, errorPage(EXPIRED));
    const userId = parameter(request.body, 'user');
    const user = config.users.find((candidate) => candidate.userId === userId);
    if (user === undefined) return sendPage(reply, 400, errorPage('Unknown user.'));

    transactions.finish(transaction);
    // A new login replaces the previous one on this browser (no session fixation).
    const previous = request.cookies[SESSION_COOKIE];
    if (previous !== undefined) {
      sessions.end(previous);
      refreshTokens.revokeSession(previous);
    }
    const session = sessions.create(user.userId, nowSeconds);
    reply.setCookie(SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: sessions.lifetimeSeconds,
    });
    return sendCode(reply, codes, authorization, session, nowSeconds);
  });
  return Promise.resolve();
};
