import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevTenant, type DevTenantConfig, requestToken, startDevTenant } from '../../src/dev-tenant/index.js';
import { parseConfig } from '../../src/server-config.js';
import { type BenchDpopKey, benchDpopKey, makeProofs } from './dpop-proofs.js';
import { onExit } from './processes.js';

export interface BenchTenant {
  readonly tenant: DevTenant;
  readonly config: DevTenantConfig;
  readonly keysDir: string;
  readonly audience: string;
  /** Tokens fetched over HTTP from the tenant's /oauth/token, as a client would. */
  readonly userToken: string;
  readonly adminToken: string;
  /** The load generator's DPoP key, and a user token the tenant bound to it (cnf.jkt). */
  readonly dpopKey: BenchDpopKey;
  readonly dpopToken: string;
  close(): Promise<void>;
}

/** One dev tenant on 127.0.0.1 (free port, temp keys dir removed at exit) and a user and an admin token. */
export async function startBenchTenant(): Promise<BenchTenant> {
  const keysDir = mkdtempSync(join(tmpdir(), 'hello-api-bench-'));
  onExit(() => { rmSync(keysDir, { recursive: true, force: true }); });
  const base = parseConfig({ DEV_TENANT_KEYS_DIR: keysDir }).devTenant;
  if (base === null) throw new Error('expected a dev tenant config');
  const config: DevTenantConfig = { ...base, host: '127.0.0.1', port: 0 };
  const tenant = await startDevTenant(config);
  const [user, admin] = config.clients;
  if (user === undefined || admin === undefined) throw new Error('expected a user and an admin client');
  const fetchToken = async (client: typeof user, dpopProof?: string): Promise<string> =>
    (await requestToken(tenant.url, { clientId: client.clientId, clientSecret: client.clientSecret, audience: config.audience }, 'json', { dpopProof }))
      .access_token;
  const dpopKey = benchDpopKey();
  return {
    tenant,
    config,
    keysDir,
    audience: config.audience,
    userToken: await fetchToken(user),
    adminToken: await fetchToken(admin),
    dpopKey,
    dpopToken: await fetchToken(user, makeProofs(dpopKey, 1, 'POST', `${tenant.url}/oauth/token`)[0]),
    async close() {
      await tenant.close();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}
