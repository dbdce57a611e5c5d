import type { DevTenantConfig } from './config.js';
import type { DevTenants } from './extra-issuers.js';
import type { DevTenant, DevTenantOptions } from './tenant.js';

/**
 * The dev tenant's one door: everything outside src/dev-tenant/ takes from here (tests may reach
 * inside). The dev tenant is a small OAuth 2.0 / OpenID Connect server for local use: it signs
 * access and ID tokens with its own keys (published at /.well-known/jwks.json), runs the browser
 * sign-in of Auth0's Hello World apps (/authorize, a login page, /oauth/token, /v2/logout) and the
 * client-credentials grant, so the API verifies its tokens over HTTP exactly as it verifies Auth0's.
 * Nothing in it depends on the API: given a DevTenantConfig it runs on its own (see README).
 */

export { type ApiSettings, type DevTenantConfig, devTenantConfigFrom, devTenantOrigins, devTenantSettings } from './config.js';
export { formatDevTenantBanner, extraIssuerLines, type DevTenantBannerInput } from './banner.js';
export type { DevTenants } from './extra-issuers.js';
export type { DevTenant, DevTenantOptions } from './tenant.js';
export { loadOrCreateSigningKeys } from './signing-keys.js';
export { requestToken, TenantUnreachableError, TokenRequestError } from './token-request.js';
export type { ClientCredentials, TokenRequestEncoding, TokenResponse } from './token-request.js';

// The servers load on demand: a production start (AUTH0_DOMAIN set) never reads their routes.

/** Starts the tenant and its DEV_TENANT_EXTRA_ISSUERS on loopback; rejects with the listen or keys-folder error. */
export async function startDevTenants(config: DevTenantConfig): Promise<DevTenants> {
  const { startDevTenants: start } = await import('./extra-issuers.js');
  return start(config);
}

/** Starts one tenant (no extra issuers); `options` as in tenant.ts. */
export async function startDevTenant(config: DevTenantConfig, options?: DevTenantOptions): Promise<DevTenant> {
  const { startDevTenant: start } = await import('./tenant.js');
  return start(config, options);
}
