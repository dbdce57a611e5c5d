import { createHash, timingSafeEqual } from 'node:crypto';
import type { DevTenantClient, DevTenantConfig } from './config.js';
import { missingParameter, type OAuthError, oauthError, parameter } from './oauth-params.js';

/**
 * Who is calling POST /oauth/token (RFC 6749 §2.3), for every grant: the client is named by
 * `client_id` or by HTTP Basic; the grant must be one its kind may use; then it must authenticate
 * the one way it is registered for. The single-page app is public (`none`); the regular web app
 * sends its secret in Basic or in the body; machine clients send it in the body (Basic works too).
 * No client has a registered key, so a `client_assertion` is refused (`invalid_client`).
 */

export type AuthenticatedClient =
  | { readonly kind: 'spa'; readonly clientId: string }
  | { readonly kind: 'web'; readonly clientId: string }
  | { readonly kind: 'machine'; readonly clientId: string; readonly client: DevTenantClient };

export type ClientAuthentication = { readonly ok: true; readonly client: AuthenticatedClient } | { readonly ok: false; readonly error: OAuthError };

type Method = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** The grants each kind of client may use, as in Auth0's application types. */
const GRANTS_BY_KIND: Readonly<Record<AuthenticatedClient['kind'], readonly string[]>> = {
  spa: ['authorization_code', 'refresh_token'],
  web: ['authorization_code', 'refresh_token'],
  machine: ['client_credentials'],
};

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
function secretsMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const invalidClient = (description: string) => oauthError(401, 'invalid_client', description);

/** RFC 6749 §2.3.1: id and secret are form-encoded before Basic (what openid-client sends): `+` is a space. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

type BasicCredentials = { readonly ok: true; readonly id: string; readonly secret: string } | { readonly ok: false; readonly error: OAuthError };

function basicCredentials(header: string): BasicCredentials {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (match?.[1] === undefined) return invalidClient('The Authorization header of a token request must be HTTP Basic client credentials');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const id = colon < 0 ? undefined : formDecode(decoded.slice(0, colon));
  const secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined || id === '') return invalidClient('Malformed HTTP Basic client credentials');
  return { ok: true, id, secret };
}

/**
 * Authenticates the client of a token request for `grantType`. Refusals: 400 for a missing or
 * contradictory parameter, 403 `unauthorized_client` for a grant its kind may not use, 401
 * `invalid_client` for a method it is not registered for or a wrong secret (machine clients keep
 * Auth0's 401 `access_denied`, as does an unknown client).
 */
export function authenticateClient(
  body: unknown,
  authorization: string | undefined,
  config: Pick<DevTenantConfig, 'spa' | 'web' | 'clients'>,
  grantType: string,
): ClientAuthentication {
  const basic = authorization === undefined ? undefined : basicCredentials(authorization);
  if (basic !== undefined && !basic.ok) return basic;
  const postedSecret = parameter(body, 'client_secret');
  const assertion = parameter(body, 'client_assertion') ?? parameter(body, 'client_assertion_type');
  const methods: Method[] = [
    ...(basic === undefined ? [] : ['client_secret_basic' as const]),
    ...(postedSecret === undefined ? [] : ['client_secret_post' as const]),
    ...(assertion === undefined ? [] : ['private_key_jwt' as const]),
  ];
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
  if (methods.length > 1) return oauthError(400, 'invalid_request', `Use one client authentication method, not ${methods.join(' and ')}`);
  const [method] = methods;

  const bodyId = parameter(body, 'client_id');
  if (basic !== undefined && bodyId !== undefined && bodyId !== basic.id) {
    return oauthError(400, 'invalid_request', 'client_id in the body differs from the client in the Authorization header');
  }
  const clientId = basic?.id ?? bodyId;
  if (clientId === undefined) return missingParameter('client_id');
  const client = findClient(clientId, config);
  if (client === undefined) return oauthError(401, 'access_denied', 'Unauthorized');
  if (!GRANTS_BY_KIND[client.kind].includes(grantType)) {
    return oauthError(403, 'unauthorized_client', `Grant type '${grantType}' not allowed for the client.`);
  }
  if (method === 'private_key_jwt') {
    return invalidClient('This client has no registered key: client_assertion (private_key_jwt) is not a method it may use');
  }
  const secret = basic?.secret ?? postedSecret;
  if (client.kind === 'spa') {
    if (secret !== undefined) return invalidClient(`This client is public: it authenticates with client_id alone, not ${method ?? 'a secret'}`);
    return { ok: true, client };
  }
  const expected = client.kind === 'web' ? config.web.clientSecret : client.client.clientSecret;
  if (secret === undefined) {
    return client.kind === 'web'
      ? invalidClient('Client authentication is required: client_secret_basic or client_secret_post')
      : missingParameter('client_secret');
  }
  if (!secretsMatch(secret, expected)) {
    return client.kind === 'web' ? invalidClient('Wrong client credentials') : oauthError(401, 'access_denied', 'Unauthorized');
  }
  return { ok: true, client };
}

function findClient(clientId: string, config: Pick<DevTenantConfig, 'spa' | 'web' | 'clients'>): AuthenticatedClient | undefined {
  if (clientId === config.spa.clientId) return { kind: 'spa', clientId };
  if (clientId === config.web.clientId) return { kind: 'web', clientId };
  const machine = config.clients.find((candidate) => candidate.clientId === clientId);
  return machine === undefined ? undefined : { kind: 'machine', clientId, client: machine };
}
