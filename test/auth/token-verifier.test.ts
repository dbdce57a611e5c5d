import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { type KeySetOptions, RemoteKeySet } from '../../src/auth/key-set.js';
import { TokenCache } from '../../src/auth/token-cache.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { authConfigFor } from '../../src/config/config.js';
import { InvalidTokenError, KeySetUnavailableError } from '../../src/errors/http-errors.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';

const AUDIENCE = 'https://hello-world.example.com';

interface TestKey { readonly kid: string; readonly privateKey: CryptoKey; readonly jwk: JWK }

async function makeKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' } };
}

let server: JwksServer;
let oldKey: TestKey;
let newKey: TestKey;

before(async () => {
  oldKey = await makeKey('old');
  newKey = await makeKey('new');
  server = await startJwksServer({ kind: 'json', body: { keys: [oldKey.jwk] } });
});
after(() => server.close());

/** A verifier with a cache and a fake clock (seconds), over the JWKS server. */
function setup(cacheConfig = { maxEntries: 100, maxAgeSeconds: 300 }, keySetOptions: Partial<KeySetOptions> = {}) {
  server.behaviour = { kind: 'json', body: { keys: [oldKey.jwk] } };
  const clock = { ms: Date.now() };
  const now = () => clock.ms;
  const auth = authConfigFor(server.url, AUDIENCE);
  const keySet = new RemoteKeySet({ jwksUri: server.jwksUri, now, unknownKidFetchRefillMs: 0, ...keySetOptions });
  const cache = TokenCache.create(cacheConfig);
  const issuer = `${server.url}/`;
  const verifier = createTokenVerifier({ auth, issuers: new IssuerRegistry([{ issuer, keySet }]), cache, now });
  const sign = (key: TestKey, claims: Record<string, unknown> = {}) => {
    const iat = Math.floor(clock.ms / 1000);
    return new SignJWT({ permissions: [], ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject('client@clients')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key.privateKey);
  };
  return { clock, keySet, cache, verifier, sign };
}

describe('createTokenVerifier', () => {
  it('returns the claims of a valid token and caches them', async () => {
    const { verifier, cache, sign } = setup();
    const token = await sign(oldKey, { permissions: ['read:admin-messages'] });
    const claims = await verifier.verify(token);
    assert.deepEqual(claims['permissions'], ['read:admin-messages']);
    assert.equal(cache?.size, 1);
    assert.deepEqual(await verifier.verify(token), claims);
  });

  it('counts cache hits and misses: a refused or first-seen token is a miss', async () => {
    const { verifier, cache, sign } = setup();
    const token = await sign(oldKey);
    await verifier.verify(token);
    await verifier.verify(token);
    await verifier.verify(token);
    await assert.rejects(verifier.verify(`${token}x`), InvalidTokenError);
    assert.deepEqual({ hits: cache?.hits, misses: cache?.misses }, { hits: 2, misses: 2 });
  });

  it('counts a cached token whose key is due for refresh as a miss', async () => {
    const { verifier, cache, sign, clock } = setup(undefined, { refreshIntervalMs: 30_000 });
    const token = await sign(oldKey);
    await verifier.verify(token);
    clock.ms += 30_000;
    await verifier.verify(token);
    assert.deepEqual({ hits: cache?.hits, misses: cache?.misses }, { hits: 0, misses: 2 });
  });

  it('refuses an expired token even while it is cached', async () => {
    const { verifier, cache, sign, clock } = setup();
    const token = await sign(oldKey);
    await verifier.verify(token);
    assert.equal(cache?.size, 1);
    clock.ms += 60_000 + 5_000 + 1_000; // past exp and the 5 s tolerance
    await assert.rejects(verifier.verify(token), InvalidTokenError);
  });

  it('stops honouring cached tokens whose key left the JWKS at the next key refresh', async () => {
    const { verifier, sign } = setup();
    const oldToken = await sign(oldKey);
    await verifier.verify(oldToken);
    server.behaviour = { kind: 'json', body: { keys: [newKey.jwk] } };
    await verifier.verify(await sign(newKey)); // unknown kid: the key set refreshes
    await assert.rejects(verifier.verify(oldToken), InvalidTokenError);
  });

  it('refuses a cached token once its key has left the JWKS and the keys were due for refresh', async () => {
    const { verifier, sign, clock } = setup(undefined, { refreshIntervalMs: 30_000 });
    const token = await sign(oldKey);
    await verifier.verify(token);
    server.behaviour = { kind: 'json', body: { keys: [newKey.jwk] } };
    clock.ms += 29_000;
    await verifier.verify(token); // keys not due yet: still trusted
    clock.ms += 1_000;
    await assert.rejects(verifier.verify(token), InvalidTokenError);
  });

  it('does not cache a token past the configured maximum age', async () => {
    const { verifier, cache, sign } = setup({ maxEntries: 100, maxAgeSeconds: 1 });
    const token = await sign(oldKey);
    await verifier.verify(token);
    assert.equal(cache?.size, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal(cache.get(token, Date.now(), 0), undefined);
  });

  it('works with the cache off', async () => {
    const { verifier, cache, sign } = setup({ maxEntries: 0, maxAgeSeconds: 300 });
    assert.equal(cache, null);
    const token = await sign(oldKey);
    assert.equal((await verifier.verify(token))['sub'], 'client@clients');
  });

  it('answers KeySetUnavailable (503) when the keys cannot be loaded', async () => {
    const { verifier, sign } = setup();
    server.behaviour = { kind: 'raw', status: 500, body: '' };
    await assert.rejects(verifier.verify(await sign(oldKey)), KeySetUnavailableError);
  });

  it('never fetches keys for a token that names its own key', async () => {
    const { verifier } = setup();
    server.requests = 0;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: oldKey.kid, jku: `${server.url}/evil.json` })
      .sign(oldKey.privateKey);
    await assert.rejects(verifier.verify(token), InvalidTokenError);
    assert.equal(server.requests, 0);
  });
});
