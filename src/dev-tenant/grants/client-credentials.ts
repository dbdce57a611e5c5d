import { createHash, timingSafeEqual } from 'node:crypto';
import { ADMIN_PERMISSION } from '../../auth/permissions.js';
import type { DevTenantClient, DevTenantConfig } from '../config.js';
import { missingParameter, type OAuthError, oauthError, parameter } from '../oauth-params.js';
import { signAccessToken } from '../tokens.js';
import type { Grant } from './grant.js';

/**
 * The client-credentials grant as Auth0 answers it to machine-to-machine clients:
 * request checks (pure) and the token response.
 */

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/** The configured client with (`admin`) or without the admin permission. */
export function findDevTenantClient(config: Pick<DevTenantConfig, 'clients'>, admin: boolean): DevTenantClient {
  const client = config.clients.find((candidate) => candidate.permissions.includes(ADMIN_PERMISSION) === admin);
  if (client === undefined) throw new Error(`The dev tenant config has no ${admin ? 'admin' : 'non-admin'} client`);
  return client;
}

export type GrantCheck =
  | { readonly ok: true; readonly client: DevTenantClient; readonly audience: string }
  | { readonly ok: false; readonly error: OAuthError };

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
function secretsMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Validates a parsed /oauth/token body in Auth0's order: parameters, client, audience. */
export function checkClientCredentialsGrant(
  body: unknown,
  config: Pick<DevTenantConfig, 'audience' | 'clients' | 'spa'>,
): GrantCheck {
  const clientId = parameter(body, 'client_id');
  if (clientId === undefined) return missingParameter('client_id');
  if (clientId === config.spa.clientId) {
    return oauthError(403, 'unauthorized_client', `Grant type '${CLIENT_CREDENTIALS_GRANT}' not allowed for the client.`);
  }
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

/** The token Auth0 gives an M2M client: RBAC permissions as both `permissions` and `scope`. */
export const clientCredentialsGrant: Grant = async (body, { config, signing }) => {
  const check = checkClientCredentialsGrant(body, config);
  if (!check.ok) return check;
  const { client, audience } = check;
  const scope = client.permissions.join(' ');
  const accessToken = await signAccessToken(
    signing,
    { sub: `${client.clientId}@clients`, aud: audience, azp: client.clientId, scope, permissions: client.permissions, gty: 'client-credentials' },
    config.tokenLifetimeSeconds,
  );
  return { ok: true, body: { access_token: accessToken, token_type: 'Bearer', expires_in: config.tokenLifetimeSeconds, scope } };
};
