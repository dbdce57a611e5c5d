import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type DevTenantConfig, parseConfig } from '../../src/config/config.js';

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
