import { ADMIN_PERMISSION } from '../../auth/permissions.js';
import type { DevTenantClient, DevTenantConfig } from '../config.js';
import { authenticateClient } from '../client-authentication.js';
import { missingParameter, type OAuthError, oauthError } from '../oauth-params.js';
import { requestedAudience } from '../resource-indicator.js';
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

/**
 * Validates a parsed /oauth/token body in Auth0's order: client (client-authentication.ts),
 * audience (or RFC 8707 `resource`). `authorization` is the request's Authorization header.
 */
export function checkClientCredentialsGrant(
  body: unknown,
  authorization: string | undefined,
  config: Pick<DevTenantConfig, 'audience' | 'resourceAliases' | 'clients' | 'spa' | 'web'>,
): GrantCheck {
  const authenticated = authenticateClient(body, authorization, config, CLIENT_CREDENTIALS_GRANT);
  if (!authenticated.ok) return authenticated;
  // authenticateClient lets only machine clients use this grant; this narrows the type.
  if (authenticated.client.kind !== 'machine') return oauthError(403, 'unauthorized_client', `Grant type '${CLIENT_CREDENTIALS_GRANT}' not allowed for the client.`);
  const requested = requestedAudience(body, config);
  if (!requested.ok) return oauthError(400, 'invalid_request', requested.description);
  const { audience } = requested;
  if (audience === undefined) return missingParameter('audience');
  if (audience !== config.audience) {
    return oauthError(
      403,
      'access_denied',
      `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. ` +
        `(The dev tenant has one API: "${config.audience}".)`,
    );
  }
  return { ok: true, client: authenticated.client.client, audience };
}

/** The token Auth0 gives an M2M client: RBAC permissions as both `permissions` and `scope`. */
export const clientCredentialsGrant: Grant = async (body, { config, signing, authorization, recordProof }) => {
  const check = checkClientCredentialsGrant(body, authorization, config);
  if (!check.ok) return check;
  const replay = await recordProof();
  if (replay !== undefined) return { ok: false, error: replay };
  const { client, audience } = check;
  const scope = client.permissions.join(' ');
  const accessToken = await signAccessToken(
    signing,
    { sub: `${client.clientId}@clients`, aud: audience, azp: client.clientId, scope, permissions: client.permissions, gty: 'client-credentials' },
    config.tokenLifetimeSeconds,
  );
  return { ok: true, body: { access_token: accessToken, token_type: 'Bearer', expires_in: config.tokenLifetimeSeconds, scope } };
};
