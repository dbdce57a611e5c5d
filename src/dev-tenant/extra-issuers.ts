import { join } from 'node:path';
import type { DevTenantConfig } from './config.js';
import { type DevTenant, startDevTenant } from './tenant.js';

/**
 * DEV_TENANT_EXTRA_ISSUERS: more dev tenants beside the first, as an Auth0 tenant with custom
 * domains has several issuers. Each is a full tenant instance on the next port, with the same
 * clients and audience but its own issuer and its own keys (a subfolder of DEV_TENANT_KEYS_DIR),
 * and the API trusts them all (config.ts lists their origins in the issuer allow-list).
 */

/** The dev tenants started together: `url`/`issuer` are the first's, `urls` every one's in order. */
export interface DevTenants extends DevTenant {
  readonly urls: readonly string[];
}

/** The config of extra tenant `n` (2 = the first extra): port DEV_TENANT_PORT + n - 1, own keys. */
export function extraTenantConfig(config: DevTenantConfig, n: number): DevTenantConfig {
  const port = config.port + n - 1;
  return {
    ...config,
    port,
    url: `http://${config.host}:${port}`,
    keysDir: join(config.keysDir, `issuer-${n}`),
    extraIssuers: 0,
  };
}

/** The configs of every tenant, the first one included, in port order. */
export function allTenantConfigs(config: DevTenantConfig): DevTenantConfig[] {
  return [config, ...Array.from({ length: config.extraIssuers }, (_, i) => extraTenantConfig(config, i + 2))];
}

/** Starts every tenant; if one cannot start, closes those already started and rethrows its error. */
export async function startDevTenants(config: DevTenantConfig): Promise<DevTenants> {
  const started: DevTenant[] = [];
  try {
    for (const tenantConfig of allTenantConfigs(config)) started.push(await startDevTenant(tenantConfig));
  } catch (error) {
    await Promise.all(started.map((tenant) => tenant.close()));
    throw error;
  }
  const [first] = started;
  if (first === undefined) throw new Error('no dev tenant started');
  return {
    url: first.url,
    issuer: first.issuer,
    urls: started.map((tenant) => tenant.url),
    close: async () => {
      await Promise.all(started.map((tenant) => tenant.close()));
    },
  };
}
