import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import type { DpopConfig } from '../../src/config/dpop-config.js';
import { requestToken } from '../../src/dev-tenant/tenant.js';
import { type DpopClientKey, dpopClientKey, makeProof } from './dpop.js';
import { freePort } from './server-process.js';
import { type TestTenant, apiConfigFor, startTestTenant } from './tenant.js';

/** The public origin the test API is configured with (API_ORIGIN); requests are injected, so any name does. */
export const API_ORIGIN = 'https://api.example.com';
export const PROTECTED = '/api/messages/protected';
export const ADMIN = '/api/messages/admin';

/**
 * A real dev tenant on loopback and the API built on it with DPoP settings, plus a client key and
 * tokens the tenant bound to it over HTTP (POST /oauth/token with a proof), as a DPoP client gets them.
 * Log lines are kept, so a test can tell which check refused a request.
 */
export interface DpopHarness {
  readonly tenant: TestTenant;
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly key: DpopClientKey;
  /** Bound to `key` by the tenant. */
  readonly userToken: string;
  readonly adminToken: string;
  readonly logs: string[];
  /** The refusal log line's fields (code, check) of the last refusal logged since `mark`. */
  refusalSince(mark: number): { code?: unknown; check?: unknown } | undefined;
  /** GET `url` with `Authorization: DPoP token` and the proof (an array: several DPoP headers). */
  dpop(token: string, proof: string | string[] | undefined, url?: string, extra?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** A valid proof for GET API_ORIGIN + url with ath of `token`. */
  proof(token: string, url?: string, options?: { claims?: Record<string, unknown>; header?: Record<string, unknown>; nonce?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function boundToken(tenant: TestTenant, key: DpopClientKey, client: 'user' | 'admin'): Promise<string> {
  const { clientId, clientSecret } = tenant.config.clients[client === 'admin' ? 1 : 0] ?? {};
  if (clientId === undefined || clientSecret === undefined) throw new Error('no such client');
  const proof = await makeProof(key, { htm: 'POST', htu: `${tenant.tenant.url}/oauth/token` });
  const response = await requestToken(tenant.tenant.url, { clientId, clientSecret, audience: tenant.config.audience }, 'json', { dpopProof: proof });
  if (response.token_type !== 'DPoP') throw new Error(`expected a DPoP token, got ${response.token_type}`);
  return response.access_token;
}

/** Where a DPoP test against a real API process starts: a tenant, a client key, a user token bound to it, a free loopback origin. */
export interface DpopProcessSetup {
  readonly tenant: TestTenant;
  readonly key: DpopClientKey;
  readonly token: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the API_ORIGIN to start the process with. */
  readonly origin: string;
}

export async function dpopProcessSetup(): Promise<DpopProcessSetup> {
  const tenant = await startTestTenant();
  const key = await dpopClientKey();
  const token = await boundToken(tenant, key, 'user');
  const port = await freePort();
  return { tenant, key, token, port, origin: `http://127.0.0.1:${String(port)}` };
}

export async function startDpopHarness(dpop: Partial<DpopConfig> = {}): Promise<DpopHarness> {
  const tenant = await startTestTenant();
  const base = apiConfigFor(tenant.tenant.url);
  const config: Config = { ...base, logLevel: 'info', dpop: { ...base.dpop, origins: [API_ORIGIN], ...dpop } };
  const logs: string[] = [];
  // A store remembering for a minute already: these tests are not about restarts (dpop-replay-restart.test.ts is).
  const app = await buildApp(config, { logStream: { write: (line) => { logs.push(line); } }, replayStoreStartedAt: Date.now() - 60_000 });
  const key = await dpopClientKey();
  const [userToken, adminToken] = await Promise.all([boundToken(tenant, key, 'user'), boundToken(tenant, key, 'admin')]);
  const harness: DpopHarness = {
    tenant, app, config, key, userToken, adminToken, logs,
    refusalSince(mark) {
      for (const line of logs.slice(mark).reverse()) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (typeof entry['code'] === 'string' && entry['code'].startsWith('ERR_')) return { code: entry['code'], check: entry['check'] };
      }
      return undefined;
    },
    dpop(token, proof, url = PROTECTED, extra = {}) {
      return app.inject({
        method: 'GET',
        url,
        headers: { authorization: `DPoP ${token}`, ...(proof !== undefined && { dpop: proof }), ...extra },
      });
    },
    proof(token, url = PROTECTED, options = {}) {
      return makeProof(key, { htu: `${API_ORIGIN}${url}`, accessToken: token, ...options });
    },
    async close() {
      await app.close();
      await tenant.close();
    },
  };
  return harness;
}
