import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { type JWK, SignJWT, importJWK } from 'jose';
import { oddInteger } from '../../bench/lib/dpop-proofs.js';
import { verifyDpopProof } from '../../src/auth/dpop-proof.js';
import { proofKeyShapeProblem } from '../../src/auth/dpop-proof-key-limits.js';
import { InvalidDpopProofError } from '../../src/errors/http-errors.js';

/**
 * Issue 16 W1: an RSA proof key with a huge public exponent made every refused request cost ~8x
 * an ES256 one, with no token needed. Such keys are refused on their shape, before jose imports
 * them or checks a signature (the cost per shape: bench/dpop-refusal-cost.ts, SECURITY.md).
 */
const ORIGIN = 'https://api.example.com';
const PATH = '/api/messages/protected';

/** A modulus of exactly `bits` bits. */
const modulus = oddInteger;

describe('proofKeyShapeProblem', () => {
  const cases: [string, Record<string, unknown>, RegExp | undefined][] = [
    ['RSA 2048, e=65537', { kty: 'RSA', n: modulus(2048), e: 'AQAB' }, undefined],
    ['RSA 4096, e=65537', { kty: 'RSA', n: modulus(4096), e: 'AQAB' }, undefined],
    ['RSA 4096 with a leading zero octet', { kty: 'RSA', n: Buffer.concat([Buffer.alloc(1), Buffer.from(modulus(4096), 'base64url')]).toString('base64url'), e: 'AQAB' }, undefined],
    ['RSA 4097', { kty: 'RSA', n: modulus(4097), e: 'AQAB' }, /over 4096 bits/],
    ['RSA 8192', { kty: 'RSA', n: modulus(8192), e: 'AQAB' }, /over 4096 bits|at most 4096 bits/],
    ['RSA 16384 (refused on its length, before decoding)', { kty: 'RSA', n: modulus(16384), e: 'AQAB' }, /at most 4096 bits/],
    ['RSA with e=3', { kty: 'RSA', n: modulus(2048), e: 'Aw' }, /exponent/],
    ['RSA with a 3072-bit exponent', { kty: 'RSA', n: modulus(3072), e: modulus(3072) }, /exponent/],
    ['RSA with 65537 spelled with a leading zero', { kty: 'RSA', n: modulus(2048), e: 'AAEAAQ' }, /exponent/],
    ['RSA with a numeric n', { kty: 'RSA', n: 12345, e: 'AQAB' }, /not a string/],
    ['EC P-256 (not RSA: left to jose)', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, undefined],
  ];
  for (const [name, jwk, problem] of cases) {
    it(`${name}: ${problem === undefined ? 'taken' : 'refused'}`, () => {
      const found = proofKeyShapeProblem(jwk);
      if (problem === undefined) assert.equal(found, undefined);
      else assert.match(found ?? '', problem);
    });
  }
});

describe('verifyDpopProof with RSA proof keys', () => {
  async function proofSignedBy(privateJwk: JWK, publicJwk: JWK): Promise<string> {
    const key = await importJWK(privateJwk, 'RS256');
    return new SignJWT({ jti: 'j1', htm: 'GET', htu: `${ORIGIN}${PATH}`, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: publicJwk })
      .sign(key);
  }
  const expectations = () => ({ method: 'GET', origins: new Set([ORIGIN]), path: PATH, now: Date.now() });
  const refusedOnJwk = (pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof InvalidDpopProofError);
    assert.equal(error.check, 'jwk');
    assert.match(error.reason, pattern);
    return true;
  };

  it('a real key with e=3, correctly signed: refused on its jwk (jose alone accepts it)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const proof = await proofSignedBy(privateKey.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
    await assert.rejects(verifyDpopProof(proof, expectations()), refusedOnJwk(/exponent/));
  });

  it('a real key with e=65537, correctly signed: accepted', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const proof = await proofSignedBy(privateKey.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
    assert.equal((await verifyDpopProof(proof, expectations())).jti, 'j1');
  });

  it('an 8192-bit modulus: refused on its jwk, not on its signature', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const good = await proofSignedBy(privateKey.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
    const [, payload, signature] = good.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'dpop+jwt', jwk: { kty: 'RSA', n: modulus(8192), e: 'AQAB' } })).toString('base64url');
    await assert.rejects(verifyDpopProof(`${header}.${String(payload)}.${String(signature)}`, expectations()), refusedOnJwk(/4096 bits/));
  });
});
