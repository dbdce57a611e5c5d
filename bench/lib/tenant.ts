import { KeyObject, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DevTenant,
  type DevTenantConfig,
  loadOrCreateSigningKeys,
  requestToken,
  startDevTenant,
} from '../../src/dev-tenant/index.js';
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
  /**
   * `count` distinct valid user tokens, made in this process with the tenant's signing key: the
   * user token's header and claims plus a unique `jti`, as many first requests of many clients
   * would send. Signed here before a run (about 1 ms each) so the run measures only the server.
   */
  mintUserTokens(count: number): string[];
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
  const userToken = await fetchToken(user);
  const signingKey = KeyObject.from((await loadOrCreateSigningKeys(keysDir)).current.privateKey);
  const [userHeader = '', userPayload = ''] = userToken.split('.');
  const userClaims = JSON.parse(Buffer.from(userPayload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    tenant,
    config,
    keysDir,
    audience: config.audience,
    userToken,
    adminToken: await fetchToken(admin),
    dpopKey,
    dpopToken: await fetchToken(user, makeProofs(dpopKey, 1, 'POST', `${tenant.url}/oauth/token`)[0]),
    mintUserTokens(count) {
      const tokens: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const input = `${userHeader}.${Buffer.from(JSON.stringify({ ...userClaims, jti: `bench-${String(i)}-${String(Date.now())}` })).toString('base64url')}`;
        tokens.push(`${input}.${sign('sha256', Buffer.from(input), signingKey).toString('base64url')}`);
      }
      return tokens;
    },
    async close() {
      await tenant.close();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}
