import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type JWTHeaderParameters, type JWTPayload, SignJWT } from 'jose';
import { ADMIN_PERMISSION, type Config, DEFAULT_AUDIENCE, authConfigFor } from '../../src/config/config.js';
import { parseConfig } from '../../src/server-config.js';
import type { DevTenantClient, DevTenantConfig } from '../../src/dev-tenant/config.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import { type DevTenant, requestToken, startDevTenant } from '../../src/dev-tenant/tenant.js';

/**
 * A real dev tenant on localhost (ephemeral port, fresh keys) for tests: tokens come from its
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
  /** Stops the tenant and removes its keys; done for you when started with `t`. */
  close(): Promise<void>;
}

export interface TestTenantOptions {
  /** Closes the tenant and removes its keys when this test ends. */
  readonly t?: TestContext;
  /** Variables for parseConfig (e.g. CLIENT_ORIGIN_URL, DEV_TENANT_USERS), as a user would set them. */
  readonly env?: Readonly<Record<string, string>>;
  /** Replaces fields of the parsed config (port is 0 unless given). */
  readonly config?: Partial<DevTenantConfig>;
  /** The tenant's clock, seconds since the epoch. */
  readonly now?: () => number;
  /** The size of the tenant's DPoP replay store at /oauth/token. */
  readonly dpopReplayMaxEntries?: number;
}

/** A fresh keys directory, removed when the test ends. */
export async function tempKeysDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dev-tenant-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The dev tenant config the real config code builds (same client ids and secrets as the CLIs
 * see), on port 0 so tests never collide.
 */
export function testTenantConfig(
  keysDir: string,
  overrides: Partial<DevTenantConfig> = {},
  env: Readonly<Record<string, string>> = {},
): DevTenantConfig {
  const devTenant = parseConfig({ ...env, DEV_TENANT_KEYS_DIR: keysDir }).devTenant;
  if (devTenant === null) throw new Error('expected a dev tenant config');
  return { ...devTenant, port: 0, ...overrides };
}

export async function startTestTenant(options: TestTenantOptions = {}): Promise<TestTenant> {
  const keysDir = await mkdtemp(join(tmpdir(), 'hello-api-test-'));
  const config = testTenantConfig(keysDir, options.config, options.env);
  const { audience } = config;
  let tenant: DevTenant;
  try {
    tenant = await startDevTenant(config, {
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.dpopReplayMaxEntries === undefined ? {} : { dpopReplayMaxEntries: options.dpopReplayMaxEntries }),
    });
  } catch (error) {
    await rm(keysDir, { recursive: true, force: true });
    throw error;
  }
  const close = async () => {
    await tenant.close();
    await rm(keysDir, { recursive: true, force: true });
  };
  options.t?.after(close);

  return {
    tenant,
    config,
    keysDir,
    async token(client = 'user') {
      const { clientId, clientSecret } = clientFor(config, client === 'admin');
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
    close,
  };
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

export function clientFor(config: DevTenantConfig, admin: boolean): DevTenantClient {
  const client = config.clients.find((candidate) => candidate.permissions.includes(ADMIN_PERMISSION) === admin);
  if (client === undefined) throw new Error(`no ${admin ? 'admin' : 'non-admin'} client in the config`);
  return client;
}

/** API config that trusts `tenantUrl`, as if AUTH0_DOMAIN pointed at it. */
export function apiConfigFor(tenantUrl: string, overrides: Partial<Config> = {}, audience = DEFAULT_AUDIENCE): Config {
  const config = parseConfig({ AUTH0_DOMAIN: tenantUrl, AUTH0_AUDIENCE: audience, LOG_LEVEL: 'silent' });
  return { ...config, auth: authConfigFor(new URL(tenantUrl).origin, audience), ...overrides };
}
