import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { isLoopbackHost } from '../config/env-rules.js';
import { AuthorizationCodeStore } from './code-store.js';
import type { DevTenantConfig } from './config.js';
import { RefreshTokenStore } from './refresh-tokens.js';
import { authorizeRoutes } from './routes/authorize.js';
import { registerTenantCors } from './routes/cors.js';
import { discoveryRoutes } from './routes/discovery.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { tokenRoutes } from './routes/token.js';
import { userinfoRoutes } from './routes/userinfo.js';
import { LoginTransactionStore, SessionStore } from './sessions.js';
import { retiredKeyGraceSeconds } from './signing-keys.js';
import { loadTenantSigningKeys } from './signing-algorithms.js';

export { requestToken, TenantUnreachableError, TokenRequestError } from './token-request.js';
export type { ClientCredentials, TokenRequestEncoding, TokenResponse } from './token-request.js';

/**
 * The embedded dev tenant: a loopback-only stand-in for an Auth0 tenant. It publishes a JWKS and
 * OpenID configuration, issues RS256 tokens to machine clients (client credentials) and to users
 * of a single-page app and a regular web app (authorization code with PKCE, refresh tokens, silent
 * authentication), so the API and Auth0's Hello World clients run with real tokens and no Auth0 account.
 */

export interface DevTenant {
  /** `http://localhost:PORT` with the port actually bound (also when configured as 0). */
  readonly url: string;
  /** `url` + `/`: the `iss` of every token, as Auth0 writes it. */
  readonly issuer: string;
  close(): Promise<void>;
}

export interface DevTenantOptions {
  /** Seconds since the epoch; tests pass a clock they control. Default: the system clock. */
  readonly now?: () => number;
  /** DPoP proofs /oauth/token remembers at once (default 10 000); tests use a small store to fill. */
  readonly dpopReplayMaxEntries?: number;
}

/** Token and login requests are a few hundred bytes; anything big is a mistake. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** `[::1]` and `::1` both listen on `::1`; URLs need the brackets. */
function listenHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The host name in a Host header (`localhost:6061`, `[::1]:6061`), lower-cased. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/**
 * A request flows: Host check -> (body parsing) -> route plugin -> OAuth-shaped error if anything
 * throws. Route plugins, one concern each, live in routes/; protocol checks they call are pure
 * modules beside this file.
 */
async function buildTenantApp(
  config: DevTenantConfig,
  issuer: () => string,
  now: () => number,
  dpopReplayMaxEntries: number | undefined,
): Promise<FastifyInstance> {
  const keys = await loadTenantSigningKeys(config.keysDir, retiredKeyGraceSeconds(config.tokenLifetimeSeconds), config.signingAlgorithms);
  const codes = new AuthorizationCodeStore();
  const refreshTokens = new RefreshTokenStore();
  const sessions = new SessionStore({ lifetimeSeconds: config.sessionLifetimeSeconds });
  const transactions = new LoginTransactionStore();

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });

  // Auth0 accepts form-encoded token requests too (what `curl -d a=b` and the SPA SDK send).
  // A repeated field becomes an array, as in a query string, so it reads as missing, not as its last value.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const fields = new Map<string, string | string[]>();
    for (const [name, value] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) {
      const seen = fields.get(name);
      fields.set(name, seen === undefined ? value : [seen, value].flat());
    }
    done(null, Object.fromEntries(fields));
  });

  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    const message = error.message ?? 'unknown error';
    // Unparsable or oversized bodies, unsupported content types: the client's fault, OAuth-shaped.
    if (status >= 400 && status < 500) return reply.code(status).send({ error: 'invalid_request', error_description: message });
    // Dev tool on loopback only: the message (e.g. a corrupt keys file) helps more than it leaks.
    return reply.code(500).send({ error: 'server_error', error_description: message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', error_description: `No route for ${request.method} ${request.url}` }),
  );

  // DNS rebinding: a web page whose name resolves to 127.0.0.1 reaches this port with its own
  // Host. Only loopback names get an answer, so no other site can drive the login or read tokens.
  app.addHook('onRequest', (request, reply, done) => {
    const host = hostName(request.headers.host);
    if (host === undefined || !isLoopbackHost(host)) {
      void reply.code(421).send({ error: 'invalid_request', error_description: 'The dev tenant answers loopback host names only' });
      return;
    }
    done();
  });

  await app.register(fastifyCookie);
  await app.register(discoveryRoutes, { issuer, keys });
  await app.register(authorizeRoutes, { config, codes, sessions, transactions, now });
  await app.register(loginRoutes, { config, codes, sessions, refreshTokens, transactions, now });
  await app.register(logoutRoutes, { config, sessions, refreshTokens });
  // What a browser app calls with fetch: CORS for the allowed web origins, in its own scope.
  await app.register(async (browserScope) => {
    await registerTenantCors(browserScope, config.spa.webOrigins);
    await browserScope.register(tokenRoutes, { config, issuer, keys, codes, refreshTokens, now, dpopReplayMaxEntries });
    await browserScope.register(userinfoRoutes, { config, issuer, keys });
  });
  return app;
}

/**
 * Starts the dev tenant on `config.host:config.port` (port 0 picks a free one). Refuses any
 * host that is not loopback: its client secrets are public defaults. `localhost` binds every
 * address it resolves to (127.0.0.1 and ::1 where both exist), so `fetch('http://localhost:…')`
 * reaches it whichever Node tries first. Loads (or creates) the signing keys before listening,
 * so a broken keys file fails here rather than on a request.
 */
export async function startDevTenant(config: DevTenantConfig, options: DevTenantOptions = {}): Promise<DevTenant> {
  if (!isLoopbackHost(config.host)) {
    throw new Error(
      `The dev tenant only listens on a loopback address (127.0.0.1, ::1, localhost), not "${config.host}": ` +
        'its client secrets are public defaults. Set AUTH0_DOMAIN to use a real Auth0 tenant.',
    );
  }
  let url = '';
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const app = await buildTenantApp(config, () => `${url}/`, now, options.dpopReplayMaxEntries);
  const host = listenHost(config.host);
  try {
    await app.listen({ host, port: config.port });
  } catch (error) {
    await app.close();
    throw error; // unchanged, so callers can tell EADDRINUSE from EACCES
  }
  const { port } = app.server.address() as AddressInfo;
  url = `http://${urlHost(host)}:${String(port)}`;
  return { url, issuer: `${url}/`, close: () => app.close() };
}
