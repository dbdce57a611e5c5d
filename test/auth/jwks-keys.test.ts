import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { type SigningAlgorithm, algorithmsForJwk, importKeys, importVerificationKeys } from '../../src/auth/jwks-keys.js';

// Fixed public keys (data, not generated per run), so each row reads as the JWK it is about.
const Jwk = z.record(z.string(), z.unknown());
const fixtures = z
  .object({ rsa2048: Jwk, rsa1024: Jwk, ecP256: Jwk })
  .parse(JSON.parse(readFileSync(new URL('../fixtures/public-jwks.json', import.meta.url), 'utf8')));
const rsa = fixtures.rsa2048;

const BOTH: readonly SigningAlgorithm[] = ['RS256', 'PS256'];
const RS256_ONLY: readonly SigningAlgorithm[] = ['RS256'];

interface Row {
  readonly name: string;
  readonly jwk: Record<string, unknown>;
  readonly allowed: readonly SigningAlgorithm[];
  /** The algorithms the key may verify; [] = skipped. */
  readonly expected: readonly SigningAlgorithm[];
}

const ROWS: readonly Row[] = [
  { name: 'an RSA key without alg, RS256 allowed', jwk: { ...rsa }, allowed: RS256_ONLY, expected: ['RS256'] },
  { name: 'an RSA key without alg, RS256 and PS256 allowed', jwk: { ...rsa }, allowed: BOTH, expected: ['RS256', 'PS256'] },
  { name: 'an RSA key with alg RS256, both allowed: RS256 only', jwk: { ...rsa, alg: 'RS256' }, allowed: BOTH, expected: ['RS256'] },
  { name: 'an RSA key with alg PS256, both allowed: PS256 only', jwk: { ...rsa, alg: 'PS256' }, allowed: BOTH, expected: ['PS256'] },
  { name: 'an RSA key with alg PS256, RS256 allowed: skipped', jwk: { ...rsa, alg: 'PS256' }, allowed: RS256_ONLY, expected: [] },
  { name: 'an RSA key with alg RS384: skipped', jwk: { ...rsa, alg: 'RS384' }, allowed: BOTH, expected: [] },
  { name: 'an RSA key with alg HS256: skipped', jwk: { ...rsa, alg: 'HS256' }, allowed: BOTH, expected: [] },
  { name: 'an RSA key with use sig', jwk: { ...rsa, use: 'sig' }, allowed: RS256_ONLY, expected: ['RS256'] },
  { name: 'an RSA key with use enc: skipped', jwk: { ...rsa, use: 'enc' }, allowed: BOTH, expected: [] },
  { name: 'an RSA key with key_ops [verify]', jwk: { ...rsa, key_ops: ['verify'] }, allowed: RS256_ONLY, expected: ['RS256'] },
  { name: 'an RSA key with key_ops [encrypt]: skipped', jwk: { ...rsa, key_ops: ['encrypt'] }, allowed: BOTH, expected: [] },
  { name: 'an RSA key with a private member d: skipped', jwk: { ...rsa, d: 'AQAB' }, allowed: BOTH, expected: [] },
  { name: 'an EC key labelled RS256: the kty does not fit', jwk: { ...fixtures.ecP256, alg: 'RS256' }, allowed: BOTH, expected: [] },
  { name: 'an EC key without alg', jwk: { ...fixtures.ecP256 }, allowed: BOTH, expected: [] },
  { name: 'a symmetric (oct) key labelled RS256', jwk: { kty: 'oct', k: 'c2VjcmV0', alg: 'RS256' }, allowed: BOTH, expected: [] },
  { name: 'an RSA key of 1024 bits: skipped', jwk: { ...fixtures.rsa1024 }, allowed: BOTH, expected: [] },
  { name: 'an RSA key with a broken modulus: skipped', jwk: { ...rsa, n: 'AA' }, allowed: BOTH, expected: [] },
  { name: 'an RSA key whose n is not a string: skipped', jwk: { ...rsa, n: 7 }, allowed: BOTH, expected: [] },
];

describe('importVerificationKeys: which algorithms a JWK may verify', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const keys = await importVerificationKeys(row.jwk, row.allowed);
      assert.deepEqual(keys === undefined ? [] : [...keys.keys()], row.expected);
      for (const [alg, key] of keys ?? []) {
        // Each imported key is bound to one algorithm: an RS256 key never checks a PS256 signature.
        assert.equal(key.alg, alg);
      }
    });
  }

  it('agrees with algorithmsForJwk on the rows that import', () => {
    assert.deepEqual(algorithmsForJwk({ ...rsa, alg: 'PS256' }, BOTH), ['PS256']);
    assert.deepEqual(algorithmsForJwk({ ...rsa }, BOTH), ['RS256', 'PS256']);
  });

  for (const value of [null, 'RSA', 42, [rsa]]) {
    it(`refuses ${JSON.stringify(value).slice(0, 20)} as a JWK`, async () => {
      assert.equal(await importVerificationKeys(value, BOTH), undefined);
    });
  }
});

describe('importKeys: a JWKS document', () => {
  it('keeps usable keys by kid and skips the rest', async () => {
    const result = await importKeys(
      { keys: [{ ...rsa, kid: 'a' }, { ...rsa, kid: 'enc', use: 'enc' }, { ...rsa }, { ...rsa, kid: '' }, { ...rsa, kid: 'ps', alg: 'PS256' }] },
      BOTH,
    );
    assert.ok(result.ok);
    assert.deepEqual([...result.byKid.keys()], ['a', 'ps']);
    assert.deepEqual([...(result.byKid.get('ps')?.keys() ?? [])], ['PS256']);
  });

  it('for a repeated kid keeps the first usable key', async () => {
    const result = await importKeys({ keys: [{ ...rsa, kid: 'k', use: 'enc' }, { ...rsa, kid: 'k', alg: 'RS256' }, { ...rsa, kid: 'k' }] }, BOTH);
    assert.ok(result.ok);
    assert.deepEqual([...(result.byKid.get('k')?.keys() ?? [])], ['RS256']);
  });

  const refused: [string, unknown, readonly SigningAlgorithm[], RegExp][] = [
    ['no keys array', { keys: 'nope' }, BOTH, /no "keys" array/],
    ['a JSON array', [rsa], BOTH, /no "keys" array/],
    ['null', null, BOTH, /no "keys" array/],
    ['only unusable keys', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, BOTH, /no usable RS256 or PS256 signing key/],
    ['only PS256 keys when RS256 alone is allowed', { keys: [{ ...rsa, kid: 'p', alg: 'PS256' }] }, RS256_ONLY, /no usable RS256 signing key/],
  ];
  for (const [name, body, allowed, reason] of refused) {
    it(`refuses ${name}`, async () => {
      const result = await importKeys(body, allowed);
      assert.ok(!result.ok);
      assert.match(result.reason, reason);
    });
  }
});
