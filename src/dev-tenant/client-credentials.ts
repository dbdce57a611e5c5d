import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { ADMIN_PERMISSION, type DevTenantClient, type DevTenantConfig } from '../config/config.js';
import { SIGNING_ALG, type SigningKey } from './signing-keys.js';

/**
 * The client-credentials grant as Auth0 answers it to machine-to-machine clients:
 * request checks (pure) and the access token it signs.
 */

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/** The configured client with (`admin`) or without the admin permission. */
export function findDevTenantClient(config: Pick<DevTenantConfig, 'clients'>, admin: boolean): DevTenantClient {
  const client = config.clients.find((candidate) => candidate.permissions.includes(ADMIN_PERMISSION) === admin);
  if (client === undefined) throw new Error(`The dev tenant config has no ${admin ? 'admin' : 'non-admin'} client`);
  return client;
}

/** An OAuth error reply, with the status and body Auth0's /oauth/token uses. */
export interface OAuthError {
  readonly status: 400 | 401 | 403;
  readonly body: { readonly error: string; readonly error_description: string };
}

export type GrantCheck =
  | { readonly ok: true; readonly client: DevTenantClient; readonly audience: string }
  | { readonly ok: false; readonly error: OAuthError };

export interface TokenResponseBody {
  readonly access_token: string;
  /** DPoP when the request carried a valid proof (the token then has `cnf.jkt`). */
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  /** Permissions joined by a space; "" when the client has none. */
  readonly scope: string;
}

function oauthError(status: OAuthError['status'], error: string, description: string): GrantCheck {
  return { ok: false, error: { status, body: { error, error_description: description } } };
}

function missingParameter(name: string): GrantCheck {
  return oauthError(400, 'invalid_request', `Missing required parameter: ${name}`);
}

/** A non-empty string parameter, or undefined for missing, empty or non-string values. */
function parameter(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
function secretsMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Validates a parsed /oauth/token body in Auth0's order: grant type, parameters, client, audience. */
export function checkClientCredentialsGrant(
  body: unknown,
  config: Pick<DevTenantConfig, 'audience' | 'clients'>,
): GrantCheck {
  const grantType = parameter(body, 'grant_type');
  if (grantType === undefined) return missingParameter('grant_type');
  if (grantType !== CLIENT_CREDENTIALS_GRANT) {
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
  }
  const clientId = parameter(body, 'client_id');
  if (clientId === undefined) return missingParameter('client_id');
  const clientSecret = parameter(body, 'client_secret');
  if (clientSecret === undefined) return missingParameter('client_secret');
  const audience = parameter(body, 'audience');
  if (audience === undefined) return missingParameter('audience');
  const client = config.clients.find((candidate) => candidate.clientId === clientId);
  if (client === undefined || !secretsMatch(clientSecret, client.clientSecret)) {
    return oauthError(401, 'access_denied', 'Unauthorized');
  }
  if (audience !== config.audience) {
    return oauthError(
      403,
      'access_denied',
      `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. ` +
        `(The dev tenant has one API: "${config.audience}".)`,
    );
  }
  return { ok: true, client, audience };
}

export interface AccessTokenRequest {
  readonly key: SigningKey;
  /** The tenant URL with a trailing slash, as Auth0 writes `iss`. */
  readonly issuer: string;
  readonly client: DevTenantClient;
  readonly audience: string;
  readonly lifetimeSeconds: number;
  readonly nowSeconds: number;
  /** Thumbprint of the client's DPoP key: binds the token to it (RFC 9449 section 6). */
  readonly jkt?: string | undefined;
}

/** Signs the access token Auth0 gives an M2M client: same header and claims, RBAC permissions included. */
export async function issueAccessToken(request: AccessTokenRequest): Promise<TokenResponseBody> {
  const { key, issuer, client, audience, lifetimeSeconds, nowSeconds, jkt } = request;
  const permissions = [...client.permissions];
  const scope = permissions.join(' ');
  const cnf = jkt === undefined ? {} : { cnf: { jkt } };
  const accessToken = await new SignJWT({ azp: client.clientId, scope, gty: 'client-credentials', permissions, ...cnf })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid: key.kid })
    .setIssuer(issuer)
    .setSubject(`${client.clientId}@clients`)
    .setAudience(audience)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + lifetimeSeconds)
    .sign(key.privateKey);
  return { access_token: accessToken, token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: lifetimeSeconds, scope };
}
