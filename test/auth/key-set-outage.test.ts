import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { RemoteKeySet } from '../../src/auth/key-set.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

// The API in front of a tenant whose JWKS endpoint fails: a proxy to the real dev tenant's keys.
let tenant: TestTenant;
let jwks: JwksServer;
before(async () => {
  tenant = await startTestTenant();
  jwks = await startJwksServer({ kind: 'raw', status: 503, body: 'unavailable' });
});
after(async () => {
  await jwks.close();
  await tenant.close();
});

describe('API while the signing keys are unreachable', () => {
  it('serves /public, answers 503 fast on protected routes, says not ready, and recovers', async () => {
    const config = apiConfigFor(tenant.tenant.url);
    const keySet = new RemoteKeySet({ jwksUri: jwks.jwksUri, retryDelayMs: 200, maxRetryDelayMs: 200 });
    const app = await buildApp(config, { issuers: new IssuerRegistry([{ issuer: tenant.tenant.issuer, keySet }]) });
    const token = await tenant.token('admin');
    const call = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    assert.equal((await call('/api/messages/public')).statusCode, 200);
    const started = Date.now();
    for (const url of ['/api/messages/protected', '/api/messages/admin']) {
      const response = await call(url);
      assert.equal(response.statusCode, 503);
      assert.match(String(response.headers['retry-after']), /^\d+$/);
      assert.deepEqual(Object.keys(response.json<object>()), ['message']);
    }
    assert.ok(Date.now() - started < 1_000);
    assert.equal((await call('/readyz')).statusCode, 503);

    // The tenant comes back: serve its real keys; after the back-off the API recovers by itself.
    const keys: unknown = await (await fetch(`${tenant.tenant.url}/.well-known/jwks.json`)).json();
    jwks.behaviour = { kind: 'json', body: keys };
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal((await call('/api/messages/admin')).statusCode, 200);
    assert.equal((await call('/readyz')).statusCode, 200);
    await app.close();
  });
});
