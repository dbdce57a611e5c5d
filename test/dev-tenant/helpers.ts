import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ADMIN_PERMISSION, type DevTenantClient, type DevTenantConfig, parseConfig } from '../../src/config/config.js';
import { type DevTenant, startDevTenant } from '../../src/dev-tenant/tenant.js';

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
export function testTenantConfig(keysDir: string, overrides: Partial<DevTenantConfig> = {}): DevTenantConfig {
  const devTenant = parseConfig({ DEV_TENANT_KEYS_DIR: keysDir }).devTenant;
  if (devTenant === null) throw new Error('expected a dev tenant config');
  return { ...devTenant, port: 0, ...overrides };
}

export interface TestTenant {
  readonly tenant: DevTenant;
  readonly config: DevTenantConfig;
  readonly keysDir: string;
}

/** A dev tenant on 127.0.0.1 with a free port and its own keys, closed when the test ends. */
export async function startTestTenant(t: TestContext, overrides: Partial<DevTenantConfig> = {}): Promise<TestTenant> {
  const keysDir = await tempKeysDir(t);
  const config = testTenantConfig(keysDir, overrides);
  const tenant = await startDevTenant(config);
  t.after(() => tenant.close());
  return { tenant, config, keysDir };
}

export function clientFor(config: DevTenantConfig, admin: boolean): DevTenantClient {
  const client = config.clients.find((candidate) => candidate.permissions.includes(ADMIN_PERMISSION) === admin);
  if (client === undefined) throw new Error(`no ${admin ? 'admin' : 'non-admin'} client in the config`);
  return client;
}

/** A loopback port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => { if (error) reject(error); else resolve(); }));
  return port;
}
