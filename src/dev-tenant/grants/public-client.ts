import type { DevTenantConfig } from '../config.js';
import { missingParameter, type OAuthError, oauthError, parameter } from '../oauth-params.js';

/**
 * The `client_id` of a grant only the single-page app may use (it is public: no secret).
 * A machine client gets Auth0's `unauthorized_client`; an unknown one its 401.
 */
export function checkPublicClient(
  body: unknown,
  config: Pick<DevTenantConfig, 'spa' | 'clients'>,
  grantType: string,
): { readonly ok: true; readonly clientId: string } | { readonly ok: false; readonly error: OAuthError } {
  const clientId = parameter(body, 'client_id');
  if (clientId === undefined) return missingParameter('client_id');
  if (clientId === config.spa.clientId) return { ok: true, clientId };
  if (config.clients.some((client) => client.clientId === clientId)) {
    return oauthError(403, 'unauthorized_client', `Grant type '${grantType}' not allowed for the client.`);
  }
  return oauthError(401, 'access_denied', 'Unauthorized');
}
