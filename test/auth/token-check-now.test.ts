import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { RemoteKeySet } from '../../src/auth/key-set.js';
import { TokenCache } from '../../src/auth/token-cache.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { authConfigFor } from '../../src/config/config.js';
import { InvalidTokenError } from '../../src/errors/http-errors.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';

/**
 * TokenVerifier.check: the same answers as verify, without a promise when the key is held fresh
 * (the request path's uncached Bearer token), through the key set's lookup when it is not.
 */

const AUDIENCE = 'https://hello-world.example.com';
const REFRESH_MS = 60_000;

let server: JwksServer;
let privateKey: CryptoKey;
let jwk: JWK;

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' };
  server = await startJwksServer({ kind: 'json', body: { keys: [jwk] } });
});
after(() => server.close());

function setup() {
  const clock = { ms: Date.now() };
  const now = () => clock.ms;
  const keySet = new RemoteKeySet({ jwksUri: server.jwksUri, now, refreshIntervalMs: REFRESH_MS });
  const issuer = `${server.url}/`;
  const verifier = createTokenVerifier({
    auth: authConfigFor(server.url, AUDIENCE),
    issuers: new IssuerRegistry([{ issuer, keySet }]),
    cache: TokenCache.create({ maxEntries: 100, maxAgeSeconds: 300 }),
    now,
  });
  const sign = (kid: string, claims: Record<string, unknown> = {}) => {
    const iat = Math.floor(clock.ms / 1000);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).setIssuer(issuer).setAudience(AUDIENCE)
      .setIssuedAt(iat).setExpirationTime(iat + 3600).sign(privateKey);
  };
  return { clock, keySet, verifier, sign };
}

describe('TokenVerifier.check', () => {
  it('answers a new token with a fresh key without a promise, and refuses a bad one by a throw', async () => {
    const { keySet, verifier, sign } = setup();
    assert.equal(await keySet.warm(), true);
    const token = await sign('k1', { then: 'a claim named then' });
    const claims = verifier.check(token);
    assert.ok(!(claims instanceof Promise));
    assert.equal(claims['then'], 'a claim named then');
    const other = await sign('k1', { sub: 'other' });
    assert.throws(() => verifier.check(`${other.slice(0, -2)}AA`), InvalidTokenError);
  });

  it('goes through the key set (a promise) before keys load, when they are due, and for an unknown kid', async () => {
    const { clock, keySet, verifier, sign } = setup();
    const first = verifier.check(await sign('k1'));
    assert.ok(first instanceof Promise);
    assert.equal((await first)['iss'], `${server.url}/`);
    const fetches = keySet.fetchCount;

    clock.ms += REFRESH_MS;
    const due = verifier.check(await sign('k1', { sub: 'due' }));
    assert.ok(due instanceof Promise);
    assert.equal((await due)['sub'], 'due');
    assert.equal(keySet.fetchCount, fetches + 1);

    const unknown = verifier.check(await sign('k2'));
    assert.ok(unknown instanceof Promise);
    await assert.rejects(unknown, InvalidTokenError);
  });
});
