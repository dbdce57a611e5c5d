import { type KeyObject, createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';

/**
 * DPoP proofs for the load generator, made ahead of each run: every request needs a fresh proof
 * (new jti), and signing them during the run would take CPU from the server on the same 2 cores.
 * node:crypto signs ES256 directly (about 30 µs a proof); the API checks them with jose.
 */
export interface BenchDpopKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: JsonWebKey;
}

export function benchDpopKey(): BenchDpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `count` proofs for `htm htu`, each with its own jti; with `accessToken`, its `ath`. */
export function makeProofs(key: BenchDpopKey, count: number, htm: string, htu: string, accessToken?: string): string[] {
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
  const ath = accessToken === undefined ? {} : { ath: createHash('sha256').update(accessToken).digest('base64url') };
  const iat = Math.floor(Date.now() / 1000);
  const proofs: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const input = `${header}.${b64({ jti: randomUUID(), htm, htu, iat, ...ath })}`;
    proofs.push(`${input}.${sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`);
  }
  return proofs;
}

/**
 * A random odd integer of exactly `bits` bits (top bit set), base64url as a JWK carries it: an RSA
 * modulus or exponent of a given size for proofs that must be refused (no real key needed).
 */
export function oddInteger(bits: number): string {
  const octets = randomBytes(Math.ceil(bits / 8));
  const top = bits % 8 === 0 ? 8 : bits % 8;
  octets[0] = ((octets[0] ?? 0) & ((1 << top) - 1)) | (1 << (top - 1));
  octets[octets.length - 1] = (octets[octets.length - 1] ?? 0) | 1;
  return octets.toString('base64url');
}
