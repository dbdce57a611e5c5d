import assert from 'node:assert/strict';
import { type KeyObject, constants, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { type CryptoKey, errors, importJWK, jwtVerify } from 'jose';
import { bindKey, parseCompactJws, verifySignature } from '../../src/auth/compact-jws.js';
import { DPOP_ALGORITHMS } from '../../src/auth/dpop-proof.js';

/**
 * The signature parameters of each algorithm, with keys of each type: a JWS signed as RFC 7518
 * says passes, and the near misses a hand-written check gets wrong are refused, as jose refuses
 * them (checked beside it): ECDSA in DER instead of r || s, RSA-PSS with another salt length,
 * PKCS#1 v1.5 for PS256 and the reverse, a key of another curve.
 */
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEYS: Record<string, { privateKey: KeyObject; publicKey: KeyObject }> = {
  RS: rsa, PS: rsa,
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ES512: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  Ed: generateKeyPairSync('ed25519'),
};
const keysFor = (alg: string) => KEYS[alg.startsWith('ES') ? alg : alg.slice(0, 2)] ?? KEYS['Ed'];

type Variant = 'right' | 'der' | 'salt-20' | 'salt-max' | 'pkcs1' | 'pss' | 'other-curve';

function signed(alg: string, variant: Variant): string {
  const input = `${Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}`;
  const data = Buffer.from(input);
  const bits = alg.slice(2);
  const hash = `sha${bits}`;
  const keys = keysFor(alg);
  if (keys === undefined) throw new Error('no key');
  let signature: Buffer;
  if (alg === 'EdDSA' || alg === 'Ed25519') signature = sign(null, data, keys.privateKey);
  else if (alg.startsWith('ES')) {
    const key = variant === 'other-curve' ? (alg === 'ES256' ? KEYS['ES384'] : KEYS['ES256'])?.privateKey : keys.privateKey;
    signature = sign(hash, data, { key: key ?? keys.privateKey, dsaEncoding: variant === 'der' ? 'der' : 'ieee-p1363' });
  } else {
    const pss = alg.startsWith('PS') ? variant !== 'pkcs1' : variant === 'pss';
    const saltLength = variant === 'salt-20' ? 20 : variant === 'salt-max' ? constants.RSA_PSS_SALTLEN_MAX_SIGN : Number(bits) / 8;
    signature = sign(hash, data, pss ? { key: keys.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength } : keys.privateKey);
  }
  return `${input}.${signature.toString('base64url')}`;
}

async function joseKey(alg: string): Promise<CryptoKey> {
  const keys = keysFor(alg);
  if (keys === undefined) throw new Error('no key');
  const key = await importJWK(keys.publicKey.export({ format: 'jwk' }), alg);
  if (key instanceof Uint8Array) throw new Error('not an asymmetric key');
  return key;
}

const VARIANTS: Record<string, readonly Variant[]> = {
  ES: ['right', 'der', 'other-curve'],
  PS: ['right', 'salt-20', 'salt-max', 'pkcs1'],
  RS: ['right', 'pss'],
  Ed: ['right'],
};

describe('compact-jws: the signature of each algorithm, as jose checks it', () => {
  for (const alg of DPOP_ALGORITHMS) {
    for (const variant of VARIANTS[alg.slice(0, 2)] ?? []) {
      it(`${alg} signed ${variant}: ${variant === 'right' ? 'accepted' : 'refused'}, as by jose`, async () => {
        const token = signed(alg, variant);
        const key = await joseKey(alg);
        const joseAccepts = await jwtVerify(token, key, { algorithms: [alg] }).then(() => true, () => false);
        let ours = true;
        try {
          verifySignature(parseCompactJws(token, new Set([alg])), bindKey(alg, key));
        } catch (error) {
          assert.ok(error instanceof errors.JWSSignatureVerificationFailed, `a refusal names the signature: ${String(error)}`);
          ours = false;
        }
        assert.equal(ours, variant === 'right');
        assert.equal(joseAccepts, ours);
      });
    }
  }

  it('refuses a key bound to another algorithm', async () => {
    const token = signed('RS256', 'right');
    const psKey = bindKey('PS256', await joseKey('PS256'));
    assert.throws(() => { verifySignature(parseCompactJws(token, new Set(['RS256'])), psKey); }, errors.JOSEAlgNotAllowed);
  });

  it('binds no RSA key under 2048 bits, as jose refuses them at verification', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const key = await importJWK(small, 'RS256');
    if (key instanceof Uint8Array) throw new Error('not an RSA key');
    assert.throws(() => bindKey('RS256', key), /2048 bits/);
  });
});

