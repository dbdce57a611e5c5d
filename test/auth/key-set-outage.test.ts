import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { RemoteKeySet } from '../../src/auth/key-set.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestKey, makeTestKey, signTestToken } from '../helpers/signing-key.js';
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
  it('serves /public, answers 503 fast on protected routes, says not ready, and recovers', async (t) => {
    const config = apiConfigFor(tenant.tenant.url);
    const keySet = new RemoteKeySet({ jwksUri: jwks.jwksUri, retryDelayMs: 200, maxRetryDelayMs: 200 });
    const app = await buildApp(config, { issuers: new IssuerRegistry([{ issuer: tenant.tenant.issuer, keySet }]) });
    // Closed even when an assertion fails, so a failure cannot keep the file running.
    t.after(() => app.close());
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
    // At once: nothing waits for the JWKS (a wait would be the 5 s fetch timeout); 4 s leaves room for a loaded machine.
    assert.ok(Date.now() - started < 4_000, `answered in ${String(Date.now() - started)} ms`);
    assert.equal((await call('/readyz')).statusCode, 503);

    // The tenant comes back: serve its real keys; after the back-off the API recovers by itself.
    const keys: unknown = await (await fetch(`${tenant.tenant.url}/.well-known/jwks.json`)).json();
    jwks.behaviour = { kind: 'json', body: keys };
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal((await call('/api/messages/admin')).statusCode, 200);
    assert.equal((await call('/readyz')).statusCode, 200);
  });
});

describe('a token with a new kid during an outage', () => {
  // issue 11: it used to get 401 "no signing key with this kid"; issue 15: then 401 for up to 30 s
  // after the last good fetch (a fixed cooldown). Keys that could not be fetched say nothing about
  // the kid: 503 from the first request.
  let server: JwksServer;
  before(async () => { server = await startJwksServer({ kind: 'json', body: {} }); });
  after(() => server.close());

  it('gets 503 with Retry-After from the first request, also right after a good fetch; after recovery only a truly unknown kid gets 401', async (t) => {
    const [oldKey, newKey, ghostKey] = await Promise.all([makeTestKey('old'), makeTestKey('new'), makeTestKey('ghost')]);
    server.behaviour = { kind: 'json', body: { keys: [oldKey.jwk] } };
    const issuer = `${server.url}/`;
    const clock = { ms: Date.now() };
    const keySet = new RemoteKeySet({ jwksUri: server.jwksUri, now: () => clock.ms, retryDelayMs: 1_000 });
    const lines: string[] = [];
    const app = await buildApp(apiConfigFor(server.url, { logLevel: 'info' }), {
      issuers: new IssuerRegistry([{ issuer, keySet }]),
      logStream: { write: (line) => lines.push(line) },
    });
    t.after(() => app.close());
    const call = async (key: TestKey) => {
      const token = await signTestToken(key, issuer);
      return app.inject({ url: '/api/messages/protected', headers: { authorization: `Bearer ${token}` } });
    };
    const logged = (msg: string) => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['msg'] === msg);

    assert.equal((await call(oldKey)).statusCode, 200);
    server.behaviour = { kind: 'raw', status: 503, body: 'down' }; // the tenant goes down, and rotates
    // At once, no time passed since the good fetch: the new kid makes the key set refetch, which fails.
    for (const step of ['the refetch fails', 'within the back-off', 'the retry after the back-off fails']) {
      const response = await call(newKey);
      assert.equal(response.statusCode, 503, step);
      assert.match(String(response.headers['retry-after']), /^[1-9]\d*$/, step);
      assert.deepEqual(response.json(), { message: 'The signing keys needed to check access tokens are unavailable; try again shortly' });
      clock.ms += 600;
    }
    assert.equal(logged('access token refused').length, 0, 'not logged as a bad token');
    const outage = logged('signing keys unavailable: token not checked');
    assert.deepEqual(outage.map((entry) => [entry['issuer'], entry['kid']]), [[issuer, 'new'], [issuer, 'new'], [issuer, 'new']]);
    assert.equal((await call(oldKey)).statusCode, 200, 'tokens of known keys still pass');

    server.behaviour = { kind: 'json', body: { keys: [newKey.jwk, oldKey.jwk] } }; // the tenant is back
    clock.ms += 4_000; // past the back-off
    assert.equal((await call(newKey)).statusCode, 200);
    assert.equal((await call(ghostKey)).statusCode, 401, 'a successful fetch shows this kid is not there');
    assert.equal(logged('access token refused').at(-1)?.['check'], 'kid');
  });
});
