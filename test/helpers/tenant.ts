import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JWTHeaderParameters, type JWTPayload, SignJWT } from 'jose';
import { type Config, DEFAULT_AUDIENCE, authConfigFor, parseConfig } from '../../src/config/config.js';
import type { DevTenantConfig } from '../../src/dev-tenant/config.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import { type DevTenant, requestToken, startDevTenant } from '../../src/dev-tenant/tenant.js';

/**
 * A real dev tenant on 127.0.0.1 (ephemeral port, fresh keys) for tests: tokens come from its
 * /oauth/token over HTTP and the API fetches its JWKS over HTTP, exactly as in production.
 */
export interface TestTenant {
  readonly tenant: DevTenant;
  readonly config: DevTenantConfig;
  readonly keysDir: string;
  /** An access token from POST /oauth/token for the plain or the admin client. */
  token(client?: 'user' | 'admin'): Promise<string>;
  /**
   * A token signed with the tenant's current private key, for claims the tenant would never issue.
   * Starts from valid claims; `claims`/`header` entries set to undefined are removed.
   */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startTestTenant(audience: string = DEFAULT_AUDIENCE): Promise<TestTenant> {
  const keysDir = await mkdtemp(join(tmpdir(), 'hello-api-test-'));
  const base = parseConfig({ DEV_TENANT_KEYS_DIR: keysDir, AUTH0_AUDIENCE: audience }).devTenant;
  if (base === null) throw new Error('expected a dev tenant config');
  const config: DevTenantConfig = { ...base, port: 0 };
  const tenant = await startDevTenant(config);

  return {
    tenant,
    config,
    keysDir,
    async token(client = 'user') {
      const { clientId, clientSecret } = config.clients[client === 'admin' ? 1 : 0] ?? {};
      if (clientId === undefined || clientSecret === undefined) throw new Error('no such client');
      const response = await requestToken(tenant.url, { clientId, clientSecret, audience });
      return response.access_token;
    },
    async sign(claims = {}, header = {}) {
      const { current } = await loadOrCreateSigningKeys(keysDir);
      const now = Math.floor(Date.now() / 1000);
      const payload = withoutUndefined({
        iss: tenant.issuer,
        sub: 'test-client@clients',
        aud: audience,
        iat: now,
        exp: now + 600,
        permissions: [],
        ...claims,
      }) as JWTPayload;
      const protectedHeader = withoutUndefined({ alg: 'RS256', typ: 'JWT', kid: current.kid, ...header });
      return new SignJWT(payload).setProtectedHeader(protectedHeader as JWTHeaderParameters).sign(current.privateKey);
    },
    async close() {
      await tenant.close();
      await rm(keysDir, { recursive: true, force: true });
    },
  };
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** API config that trusts `tenantUrl`, as if AUTH0_DOMAIN pointed at it. */
export function apiConfigFor(tenantUrl: string, overrides: Partial<Config> = {}, audience = DEFAULT_AUDIENCE): Config {
  const config = parseConfig({ AUTH0_DOMAIN: tenantUrl, AUTH0_AUDIENCE: audience, LOG_LEVEL: 'silent' });
  return { ...config, auth: authConfigFor(new URL(tenantUrl).origin, audience), ...overrides };
}
