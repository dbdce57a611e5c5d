import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type IssuerKeySetOptions, IssuerRegistry } from '../../src/auth/issuers.js';
import { DEFAULT_AUDIENCE } from '../../src/config/config.js';
import { parseConfig } from '../../src/server-config.js';
import { messageBody } from '../../src/messages/messages.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestKey, makeTestKey, signTestToken } from '../helpers/signing-key.js';

/**
 * Several trusted issuers (an Auth0 tenant and its custom domains), each with its own JWKS served
 * over HTTP on loopback by a server that counts requests; the API listens on loopback too and is
 * called with fetch, so every request takes the production path end to end.
 */

const jwks = (...keys: TestKey[]) => ({ kind: 'json', body: { keys: keys.map((key) => key.jwk) } }) as const;

interface Api {
  readonly app: FastifyInstance;
  readonly issuers: IssuerRegistry;
  /** A fake clock for the key sets only (budget, refresh), in ms; tokens use the real clock. */
  readonly clock: { ms: number };
  get(path: string, token?: string): Promise<{ status: number; body: unknown; headers: Headers }>;
}

/** The API trusting exactly `servers` as issuers (AUTH0_DOMAIN=<a>,<b>...), listening on 127.0.0.1. */
async function startApi(servers: readonly JwksServer[], options: IssuerKeySetOptions = {}): Promise<Api> {
  const config = parseConfig({
    AUTH0_DOMAIN: servers.map((server) => server.url).join(','),
    AUTH0_AUDIENCE: DEFAULT_AUDIENCE,
    LOG_LEVEL: 'silent',
  });
  const clock = { ms: Date.now() };
  const issuers = IssuerRegistry.fromConfig(config.auth, { now: () => clock.ms, ...options });
  const app = await buildApp(config, { issuers });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    issuers,
    clock,
    async get(path, token) {
      const response = await fetch(`${base}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
  };
}

const PROTECTED = '/api/messages/protected';
const issuerOf = (server: JwksServer) => `${server.url}/`;

describe('two trusted issuers', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  let keyC: TestKey;
  let a: JwksServer;
  let b: JwksServer;
  let unlisted: JwksServer;
  let api: Api;

  before(async () => {
    [keyA, keyB, keyC] = await Promise.all([makeTestKey('key-a'), makeTestKey('key-b'), makeTestKey('key-c')]);
    [a, b, unlisted] = await Promise.all([startJwksServer(jwks(keyA)), startJwksServer(jwks(keyB)), startJwksServer(jwks(keyC))]);
    api = await startApi([a, b]);
  });
  after(async () => {
    await api.app.close();
    await Promise.all([a.close(), b.close(), unlisted.close()]);
  });

  it('accepts the tokens of both, each checked against its own JWKS', async () => {
    for (const [key, server] of [[keyA, a], [keyB, b]] as const) {
      const response = await api.get(PROTECTED, await signTestToken(key, issuerOf(server)));
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, messageBody('protected'));
    }
    assert.ok(a.requests >= 1 && b.requests >= 1);
  });

  it('refuses an unlisted issuer that serves a valid JWKS with 401, and never asks it for keys', async () => {
    const before = { a: a.requests, b: b.requests };
    const response = await api.get(PROTECTED, await signTestToken(keyC, issuerOf(unlisted)));
    assert.equal(response.status, 401);
    assert.deepEqual(response.body, { message: 'Bad credentials' });
    assert.equal(unlisted.requests, 0, 'the unlisted issuer got no request');
    assert.deepEqual({ a: a.requests, b: b.requests }, before, 'nor did the trusted issuers');
  });

  it('refuses a token of issuer A signed with issuer B\'s key (B\'s kid) with 401', async () => {
    api.clock.ms += 60_000; // A's JWKS is fetched again (the unknown-kid budget allows) and still lacks key-b
    const before = a.requests;
    assert.equal((await api.get(PROTECTED, await signTestToken(keyB, issuerOf(a)))).status, 401);
    assert.equal(a.requests, before + 1, 'A\'s own JWKS was consulted, once');
  });

  it('refuses a token of issuer A signed with issuer B\'s key under A\'s kid with 401', async () => {
    assert.equal((await api.get(PROTECTED, await signTestToken(keyB, issuerOf(a), keyA.kid))).status, 401);
  });

  it('rotates the keys of one issuer without touching the other', async () => {
    const keyA2 = await makeTestKey('key-a2');
    a.behaviour = jwks(keyA2, keyA);
    api.clock.ms += 60_000; // the unknown-kid budget refills
    const before = { a: a.requests, b: b.requests };
    assert.equal((await api.get(PROTECTED, await signTestToken(keyA2, issuerOf(a)))).status, 200);
    assert.equal((await api.get(PROTECTED, await signTestToken(keyA, issuerOf(a)))).status, 200, 'the old key still verifies');
    assert.equal((await api.get(PROTECTED, await signTestToken(keyB, issuerOf(b)))).status, 200);
    assert.deepEqual({ a: a.requests, b: b.requests }, { a: before.a + 1, b: before.b });
    // B's key set knows nothing of A's new key.
    assert.equal((await api.get(PROTECTED, await signTestToken(keyA2, issuerOf(b)))).status, 401);
  });

  it('exposes per-issuer facts read-only, for metrics', () => {
    const facts = api.issuers.facts();
    assert.deepEqual([...facts.keys()], [issuerOf(a), issuerOf(b)]);
    for (const [issuer, fact] of facts) {
      assert.equal(typeof fact.fetchedAt, 'number', issuer);
      assert.ok(fact.fetchCount >= 1, issuer);
      assert.equal(fact.consecutiveFailures, 0, issuer);
    }
  });
});

describe('one of two issuers down', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  let a: JwksServer;
  let b: JwksServer;
  let api: Api;

  before(async () => {
    [keyA, keyB] = await Promise.all([makeTestKey('key-a'), makeTestKey('key-b')]);
    a = await startJwksServer(jwks(keyA));
    b = await startJwksServer({ kind: 'raw', status: 503, body: 'down' });
    api = await startApi([a, b], { retryDelayMs: 1_000, maxRetryDelayMs: 1_000 });
  });
  after(async () => {
    await api.app.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('still accepts the other issuer\'s tokens and answers the down issuer\'s with 503 and Retry-After', async () => {
    assert.equal((await api.get(PROTECTED, await signTestToken(keyA, issuerOf(a)))).status, 200);
    const down = await api.get(PROTECTED, await signTestToken(keyB, issuerOf(b)));
    assert.equal(down.status, 503);
    assert.match(down.headers.get('retry-after') ?? '', /^\d+$/);
    assert.deepEqual(Object.keys(down.body as object), ['message']);
  });

  it('is not ready, and /readyz names only the issuer whose keys did not load', async () => {
    api.clock.ms += 1_000; // past the back-off, so /readyz tries again
    const response = await api.get('/readyz');
    assert.equal(response.status, 503);
    assert.deepEqual(response.body, { message: `Not ready: the signing keys of ${issuerOf(b)} cannot be loaded` });
  });

  it('recovers by itself when the issuer comes back', async () => {
    b.behaviour = jwks(keyB);
    api.clock.ms += 1_000;
    assert.equal((await api.get(PROTECTED, await signTestToken(keyB, issuerOf(b)))).status, 200);
    assert.deepEqual((await api.get('/readyz')).body, { status: 'ready' });
  });
});

describe('a tenant and its custom domain publishing the same keys', () => {
  // Auth0 serves the tenant's keys at every one of its domains: the same kid under two issuers.
  let key: TestKey;
  let canonical: JwksServer;
  let custom: JwksServer;
  let api: Api;

  before(async () => {
    key = await makeTestKey('shared');
    [canonical, custom] = await Promise.all([startJwksServer(jwks(key)), startJwksServer(jwks(key))]);
    api = await startApi([canonical, custom], { unknownKidFetchRefillMs: 0 });
  });
  after(async () => {
    await api.app.close();
    await Promise.all([canonical.close(), custom.close()]);
  });

  it('accepts the same kid under either issuer, and a removal at one leaves the other\'s cached tokens alone', async () => {
    const viaCanonical = await signTestToken(key, issuerOf(canonical));
    const viaCustom = await signTestToken(key, issuerOf(custom));
    assert.equal((await api.get(PROTECTED, viaCanonical)).status, 200);
    assert.equal((await api.get(PROTECTED, viaCustom)).status, 200);
    // The custom domain drops the key (as if misconfigured): a new kid makes its key set refetch.
    const other = await makeTestKey('other');
    custom.behaviour = jwks(other);
    assert.equal((await api.get(PROTECTED, await signTestToken(other, issuerOf(custom)))).status, 200);
    assert.equal((await api.get(PROTECTED, viaCustom)).status, 401, 'cached, but its key left that issuer\'s JWKS');
    assert.equal((await api.get(PROTECTED, viaCanonical)).status, 200, 'the other issuer is untouched');
  });
});
