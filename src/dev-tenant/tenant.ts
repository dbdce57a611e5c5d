import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { DPOP_ALGORITHMS } from '../auth/dpop-proof.js';
import { type DevTenantConfig, isLoopbackHost } from '../config/config.js';
import { checkClientCredentialsGrant, CLIENT_CREDENTIALS_GRANT, issueAccessToken } from './client-credentials.js';
import { createTokenRequestBinding } from './dpop-binding.js';
import {
  isWithinGrace,
  loadOrCreateSigningKeys,
  retiredKeyGraceSeconds,
  SIGNING_ALG,
  type SigningKeys,
  signingKeysFilePath,
} from './signing-keys.js';

export { requestToken, TenantUnreachableError, TokenRequestError } from './token-request.js';
export type { ClientCredentials, TokenRequestEncoding, TokenResponse } from './token-request.js';

/**
 * The embedded dev tenant: a loopback-only stand-in for an Auth0 tenant that publishes a JWKS
 * and OpenID configuration and issues RS256 client-credentials tokens, so the API can be tried
 * with real tokens and no Auth0 account.
 */

export interface DevTenant {
  /** `http://127.0.0.1:PORT` with the port actually bound (also when configured as 0). */
  readonly url: string;
  /** `url` + `/`: the `iss` of every token, as Auth0 writes it. */
  readonly issuer: string;
  close(): Promise<void>;
}

export const JWKS_PATH = '/.well-known/jwks.json';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const TOKEN_PATH = '/oauth/token';

/** Token requests are a few hundred bytes; anything big is a mistake. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** `[::1]` and `::1` both listen on `::1`; URLs need the brackets. */
function listenHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Returns the keys, re-reading the file when the rotate command replaced it (new inode or
 * mtime). One stat per request is cheap and needs no file watcher.
 */
function signingKeysSource(keysDir: string, graceSeconds: number): () => Promise<SigningKeys> {
  const path = signingKeysFilePath(keysDir);
  let cached: { readonly stamp: string; readonly keys: Promise<SigningKeys> } | undefined;
  return async () => {
    const stamp = await stat(path).then(
      (stats) => `${String(stats.ino)}:${String(stats.mtimeMs)}:${String(stats.size)}`,
      () => 'missing',
    );
    if (cached?.stamp !== stamp) {
      cached = { stamp, keys: loadOrCreateSigningKeys(keysDir, new Date(), graceSeconds) };
    }
    return cached.keys;
  };
}

function sendOAuthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).send({ error, error_description: description });
}

function buildTenantApp(config: DevTenantConfig, issuer: () => string, keys: () => Promise<SigningKeys>): FastifyInstance {
  const graceSeconds = retiredKeyGraceSeconds(config.tokenLifetimeSeconds);
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });

  // Auth0 accepts form-encoded token requests too (what `curl -d a=b` sends).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
  });

  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    const message = error.message ?? 'unknown error';
    // Unparsable or oversized bodies, unsupported content types: the client's fault, OAuth-shaped.
    if (status >= 400 && status < 500) return sendOAuthError(reply, status, 'invalid_request', message);
    // Dev tool on loopback only: the message (e.g. a corrupt keys file) helps more than it leaks.
    return sendOAuthError(reply, 500, 'server_error', message);
  });

  app.setNotFoundHandler((request, reply) =>
    sendOAuthError(reply, 404, 'not_found', `No route for ${request.method} ${request.url}`),
  );

  app.get(JWKS_PATH, async (_request, reply) => {
    const { all } = await keys();
    const now = new Date();
    const published = all.filter((key) => isWithinGrace(key.retiredAt, now, graceSeconds));
    return reply.header('cache-control', 'no-cache').send({ keys: published.map((key) => key.publicJwk) });
  });

  app.get(OPENID_CONFIGURATION_PATH, () => {
    const origin = issuer().slice(0, -1);
    return {
      issuer: issuer(),
      jwks_uri: `${origin}${JWKS_PATH}`,
      token_endpoint: `${origin}${TOKEN_PATH}`,
      grant_types_supported: [CLIENT_CREDENTIALS_GRANT],
      id_token_signing_alg_values_supported: [SIGNING_ALG],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    };
  });

  const bindingFor = createTokenRequestBinding(() => new URL(TOKEN_PATH, issuer()));
  app.post(TOKEN_PATH, {
    // Set before the body is parsed so error replies (bad JSON) are not cacheable either.
    onRequest: (_request, reply, done) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      done();
    },
    handler: async (request, reply) => {
      const grant = checkClientCredentialsGrant(request.body, config);
      if (!grant.ok) return reply.code(grant.error.status).send(grant.error.body);
      const binding = await bindingFor(request.headers.dpop);
      if (!binding.ok) return reply.code(binding.error.status).send(binding.error.body);
      const { current } = await keys();
      return issueAccessToken({
        key: current,
        issuer: issuer(),
        client: grant.client,
        audience: grant.audience,
        lifetimeSeconds: config.tokenLifetimeSeconds,
        nowSeconds: Math.floor(Date.now() / 1000),
        jkt: binding.jkt,
      });
    },
  });

  return app;
}

/**
 * Starts the dev tenant on `config.host:config.port` (port 0 picks a free one). Refuses any
 * host that is not loopback: its client secrets are public defaults. Loads (or creates) the
 * signing keys before listening, so a broken keys file fails here rather than on a request.
 */
export async function startDevTenant(config: DevTenantConfig): Promise<DevTenant> {
  if (!isLoopbackHost(config.host)) {
    throw new Error(
      `The dev tenant only listens on a loopback address (127.0.0.1, ::1, localhost), not "${config.host}": ` +
        'its client secrets are public defaults. Set AUTH0_DOMAIN to use a real Auth0 tenant.',
    );
  }
  let url = '';
  const keys = signingKeysSource(config.keysDir, retiredKeyGraceSeconds(config.tokenLifetimeSeconds));
  await keys();
  const app = buildTenantApp(config, () => `${url}/`, keys);
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
