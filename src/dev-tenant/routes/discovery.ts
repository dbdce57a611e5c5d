import type { FastifyPluginAsync } from 'fastify';
import { DPOP_ALGORITHMS } from '../../auth/dpop-proof.js';
import { AUTHORIZATION_CODE_GRANT } from '../grants/authorization-code.js';
import { CLIENT_CREDENTIALS_GRANT } from '../grants/client-credentials.js';
import { REFRESH_TOKEN_GRANT } from '../grants/refresh-token.js';
import { SUPPORTED_SCOPES } from '../authorization-request.js';
import { PKCE_METHOD } from '../pkce.js';
import { SIGNING_ALG } from '../signing-keys.js';
import type { TenantSigningKeys } from '../signing-algorithms.js';

export const JWKS_PATH = '/.well-known/jwks.json';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const AUTHORIZE_PATH = '/authorize';
export const TOKEN_PATH = '/oauth/token';
export const USERINFO_PATH = '/userinfo';
export const LOGOUT_PATH = '/v2/logout';

export interface DiscoveryRoutesOptions {
  readonly issuer: () => string;
  readonly keys: TenantSigningKeys;
}

/** What a client library reads to find the endpoints, as Auth0 publishes it (`issuer` ends with `/`). */
export function openIdConfiguration(issuer: string): Record<string, unknown> {
  const origin = issuer.slice(0, -1);
  return {
    issuer,
    authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    userinfo_endpoint: `${origin}${USERINFO_PATH}`,
    end_session_endpoint: `${origin}${LOGOUT_PATH}`,
    jwks_uri: `${origin}${JWKS_PATH}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'web_message'],
    grant_types_supported: [AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT, CLIENT_CREDENTIALS_GRANT],
    code_challenge_methods_supported: [PKCE_METHOD],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: [...SUPPORTED_SCOPES],
    claims_supported: [
      'aud', 'auth_time', 'email', 'email_verified', 'exp', 'iat', 'iss', 'name', 'nickname', 'nonce', 'picture', 'sid', 'sub',
    ],
    request_uri_parameter_supported: false,
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
  };
}

/** GET the JWKS and the OpenID configuration. */
export const discoveryRoutes: FastifyPluginAsync<DiscoveryRoutesOptions> = async (app, { issuer, keys }) => {
  app.get(JWKS_PATH, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send({ keys: await keys.published(new Date()) }),
  );
  app.get(OPENID_CONFIGURATION_PATH, () => openIdConfiguration(issuer()));
  return Promise.resolve();
};
