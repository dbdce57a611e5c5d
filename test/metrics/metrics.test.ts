import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/server-config.js';
import type { DevTenantConfig } from '../../src/dev-tenant/config.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import { requestToken } from '../../src/dev-tenant/tenant.js';
import { UNMATCHED_ROUTE } from '../../src/metrics/register-metrics.js';
import { type Scrape, samplesOf, scrape, valueOf } from '../helpers/prometheus-text.js';
import { type ServerProcess, freePort, startServerProcess } from '../helpers/server-process.js';

/**
 * Real server processes in dev tenant mode with METRICS_PORT set: known calls with real tokens
 * from the tenant (and tokens signed with its own key for the refusals it would never issue),
 * then the scrape endpoint is read with a parser of the text format and each count checked.
 */

const BANNER_END = /Call the API:[\s\S]*={78}/;
const DURATION = 'http_request_duration_seconds';

let keysDir: string;
before(async () => { keysDir = await mkdtemp(join(tmpdir(), 'hello-api-metrics-')); });
after(() => rm(keysDir, { recursive: true, force: true }));

interface RunningApi {
  readonly server: ServerProcess;
  readonly port: number;
  readonly metricsPort: number;
  readonly tenant: DevTenantConfig;
}

async function startApi(extraEnv: Record<string, string> = {}): Promise<RunningApi> {
  const env = {
    PORT: String(await freePort()),
    DEV_TENANT_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    DEV_TENANT_KEYS_DIR: keysDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const tenant = parseConfig(env).devTenant;
  assert.ok(tenant);
  const server = await startServerProcess(env);
  await server.waitFor(({ stderr }) => BANNER_END.test(stderr));
  return { server, port: Number(env.PORT), metricsPort: Number(env.METRICS_PORT), tenant };
}

async function tokenFor(tenant: DevTenantConfig, client: 0 | 1): Promise<string> {
  const { clientId, clientSecret } = tenant.clients[client] ?? assert.fail('no such client');
  return (await requestToken(tenant.url, { clientId, clientSecret, audience: tenant.audience })).access_token;
}

/** A token signed with the tenant's own current key, with claims the tenant would never issue. */
async function forgedToken(tenant: DevTenantConfig, claims: Record<string, unknown>): Promise<string> {
  const { current } = await loadOrCreateSigningKeys(keysDir);
  const now = Math.floor(Date.now() / 1000);
  const valid = { iss: `${tenant.url}/`, aud: tenant.audience, sub: 'metrics-test@clients', iat: now, exp: now + 600, permissions: [] };
  return new SignJWT({ ...valid, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: current.kid })
    .sign(current.privateKey);
}

/** The token with one signature character changed: a genuine header and payload, a wrong signature. */
function withBadSignature(token: string): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
  return `${header}.${payload}.${flipped}`;
}

/** GET on a new connection (closed after), so the cluster's round robin spreads requests over workers. */
function getOnNewConnection(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => { resolve(response.statusCode ?? 0); });
    });
    req.on('error', reject);
    req.end();
  });
}

function requestCount(metrics: Scrape, route: string, status: number, method = 'GET'): number {
  return valueOf(metrics, `${DURATION}_count`, { route, method, status_code: String(status) });
}

describe('metrics of a running server (one process)', () => {
  let api: RunningApi;
  before(async () => { api = await startApi(); });
  after(async () => { assert.equal(await api.server.stop('SIGTERM'), 0); });

  it('counts requests, refusals by reason, JWKS fetches and token cache use for known calls', async () => {
    const base = `http://127.0.0.1:${api.port}`;
    const call = async (path: string, authorization?: string): Promise<number> =>
      (await fetch(`${base}${path}`, authorization === undefined ? {} : { headers: { authorization } })).status;
    const userToken = await tokenFor(api.tenant, 0);
    const expired = await forgedToken(api.tenant, { iat: 1_000_000, exp: 1_000_600 });
    const wrongAudience = await forgedToken(api.tenant, { aud: 'https://another-api.example.com' });

    const statuses = [
      await call('/api/messages/public'),
      await call('/api/messages/public'),
      await call('/api/messages/public'),
      await call('/no/such/secret-path-1'),
      await call('/no/such/secret-path-2?token=abc'),
      await call('/api/messages/protected', `Bearer ${userToken}`), // verified: cache miss
      await call('/api/messages/protected', `Bearer ${userToken}`), // cache hit
      await call('/api/messages/protected', `Bearer ${userToken}`), // cache hit
      await call('/api/messages/admin', `Bearer ${userToken}`), // cache hit, then no permission
      await call('/api/messages/protected'), // no credentials: the cache is not asked
      await call('/api/messages/protected', `Bearer ${withBadSignature(userToken)}`), // miss
      await call('/api/messages/protected', `Bearer ${expired}`), // miss
      await call('/api/messages/protected', `Bearer ${wrongAudience}`), // miss
      await call('/api/messages/protected', 'Bearer two parts'), // malformed: the cache is not asked
    ];
    assert.deepEqual(statuses, [200, 200, 200, 404, 404, 200, 200, 200, 403, 401, 401, 401, 401, 400]);

    const metrics = await scrape(api.metricsPort);
    assert.equal(metrics.types.get(DURATION), 'histogram');
    assert.equal(requestCount(metrics, '/api/messages/public', 200), 3);
    assert.equal(requestCount(metrics, UNMATCHED_ROUTE, 404), 2);
    assert.equal(requestCount(metrics, '/api/messages/protected', 200), 3);
    assert.equal(requestCount(metrics, '/api/messages/protected', 401), 4);
    assert.equal(requestCount(metrics, '/api/messages/protected', 400), 1);
    assert.equal(requestCount(metrics, '/api/messages/admin', 403), 1);
    // Exactly the calls above: no other route, method or status was counted.
    const counted = samplesOf(metrics, `${DURATION}_count`).reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(counted, statuses.length);
    // Every observation is in the +Inf bucket, and the latencies add up to something positive.
    assert.equal(valueOf(metrics, `${DURATION}_bucket`, { route: '/api/messages/public', status_code: '200', le: '+Inf' }), 3);
    assert.ok(valueOf(metrics, `${DURATION}_sum`, { route: '/api/messages/public', status_code: '200' }) > 0);
    // Labels hold route patterns, never a raw URL.
    assert.doesNotMatch(JSON.stringify(metrics.samples), /secret-path|token=abc/);

    assert.deepEqual(
      Object.fromEntries(samplesOf(metrics, 'auth_refusals_total').map((sample) => [sample.labels['reason'], sample.value])),
      { permission: 1, missing: 1, signature: 1, expired: 1, audience: 1, malformed: 1 },
    );

    const issuer = `${api.tenant.url}/`;
    assert.equal(valueOf(metrics, 'jwks_fetches_total', { issuer, outcome: 'ok' }), 1);
    assert.equal(samplesOf(metrics, 'jwks_fetches_total').length, 1, 'no failed fetch');
    const keyAge = valueOf(metrics, 'jwks_keys_age_seconds', { issuer });
    assert.ok(keyAge >= 0 && keyAge < 60, `key age ${keyAge}`);

    assert.equal(valueOf(metrics, 'token_cache_hits_total'), 3);
    assert.equal(valueOf(metrics, 'token_cache_misses_total'), 4);
    assert.equal(valueOf(metrics, 'token_cache_entries'), 1);

    // Process metrics (prom-client's default set).
    assert.ok(valueOf(metrics, 'process_resident_memory_bytes') > 0);
    assert.ok(valueOf(metrics, 'nodejs_heap_size_used_bytes') > 0);
  });

  it('serves metrics only on METRICS_PORT, only at GET /metrics', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${api.port}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${api.metricsPort}/`)).status, 404);
    const post = await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});

describe('metrics of a running server with WEB_CONCURRENCY=2', () => {
  it('sums every worker: the counts equal what was sent, though both workers served some', async () => {
    const api = await startApi({ WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', DPOP: 'disabled' });
    try {
      const sent = { public: 40, missing: 10 };
      for (let i = 0; i < sent.public; i += 1) assert.equal(await getOnNewConnection(api.port, '/api/messages/public'), 200);
      for (let i = 0; i < sent.missing; i += 1) assert.equal(await getOnNewConnection(api.port, '/api/messages/protected'), 401);

      // Which worker answered each request, from the request logs (pino writes the pid).
      await api.server.waitFor(({ stdout }) => (stdout.match(/"msg":"request completed"/g) ?? []).length >= sent.public + sent.missing);
      const pids = new Set(
        api.server.stdout
          .split('\n')
          .filter((line) => line.includes('"msg":"request completed"'))
          .map((line) => (JSON.parse(line) as { pid: number }).pid),
      );
      assert.equal(pids.size, 2, 'both workers served requests');

      const metrics = await scrape(api.metricsPort);
      assert.equal(requestCount(metrics, '/api/messages/public', 200), sent.public);
      assert.equal(requestCount(metrics, '/api/messages/protected', 401), sent.missing);
      assert.equal(valueOf(metrics, 'auth_refusals_total', { reason: 'missing' }), sent.missing);
      // Each worker loads the keys once at start.
      assert.equal(valueOf(metrics, 'jwks_fetches_total', { outcome: 'ok' }), 2);
    } finally {
      assert.equal(await api.server.stop('SIGTERM'), 0);
    }
  });
});

describe('metrics configuration', () => {
  it('stops the start with one line when METRICS_PORT is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      const server = await startServerProcess({
        PORT: String(await freePort()),
        DEV_TENANT_PORT: String(await freePort()),
        METRICS_PORT: String(address.port),
        DEV_TENANT_KEYS_DIR: keysDir,
        HOST: '127.0.0.1',
      });
      assert.equal(await server.exited, 1);
      assert.equal(server.stderr.trim(), `METRICS_PORT ${address.port} is already in use; stop the other process or choose another port`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('adds no hook to any route when metrics are off, and both metrics hooks to every route when on', async () => {
    const config = parseConfig({ AUTH0_DOMAIN: 'http://127.0.0.1:9', AUTH0_AUDIENCE: 'https://api.example.com', LOG_LEVEL: 'silent' });
    const routesWithHooks = async (metricsRegistry?: Registry): Promise<string> => {
      const app = await buildApp(config, metricsRegistry === undefined ? {} : { metricsRegistry });
      await app.ready();
      const routes = app.printRoutes({ includeHooks: true, commonPrefix: false });
      await app.close();
      return routes;
    };
    const off = await routesWithHooks();
    assert.doesNotMatch(off, /onResponse|onError|observeResponse|countRefusal/);
    const on = await routesWithHooks(new Registry());
    const routeCount = (off.match(/\((GET|HEAD|OPTIONS)\)/g) ?? []).length;
    assert.equal((on.match(/\(onResponse\) \["observeResponse\(\)"\]/g) ?? []).length, routeCount);
    assert.equal((on.match(/\(onError\) \["countRefusal\(\)"\]/g) ?? []).length, routeCount);
  });
});
