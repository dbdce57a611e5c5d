import { importJWK } from 'jose';
import type { SigningAlgorithm } from '../config/api-contract.js';
import { type BoundKey, bindKey } from './compact-jws.js';
import { isRecord } from './guards.js';

/**
 * Which keys of a JWKS the API may verify with, and for which algorithms. Pure (JWK data in, keys
 * out, no I/O) so every rule is tested with JWK data alone; a DPoP proof's `jwk` needs the same rules.
 */

export { SUPPORTED_SIGNING_ALGORITHMS, type SigningAlgorithm, isSigningAlgorithm } from '../config/api-contract.js';

/** The key type each algorithm needs: a key of another type is never used for it. */
const KEY_TYPE: Readonly<Record<SigningAlgorithm, string>> = { RS256: 'RSA', PS256: 'RSA' };

/**
 * One published key, imported once per algorithm it may verify (jose's WebCrypto keys are bound to
 * one), held as a node:crypto KeyObject for the synchronous check in compact-jws.ts.
 */
export type VerificationKeys = ReadonlyMap<SigningAlgorithm, BoundKey>;

export type JwksImport =
  | { readonly ok: true; readonly byKid: ReadonlyMap<string, VerificationKeys> }
  | { readonly ok: false; readonly reason: string };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** True if `jwk` carries a private or symmetric member: such a key is never used, nor accepted in a DPoP proof. */
export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return PRIVATE_MEMBERS.some((member) => member in jwk);
}

/**
 * The algorithms (among `allowed`) a JWK may verify: a JWK with `alg` only that one, if allowed;
 * without `alg`, every allowed algorithm its `kty` fits. Empty for keys not meant for signatures
 * (`use` other than `sig`, `key_ops` without `verify`) or carrying private members.
 */
export function algorithmsForJwk(jwk: Record<string, unknown>, allowed: readonly SigningAlgorithm[]): SigningAlgorithm[] {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return [];
  const keyOps = jwk['key_ops'];
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) return [];
  if (hasPrivateMembers(jwk)) return [];
  const candidates = jwk['alg'] === undefined ? allowed : allowed.filter((alg) => alg === jwk['alg']);
  return candidates.filter((alg) => KEY_TYPE[alg] === jwk['kty']);
}

/**
 * Imports one untrusted JWK for the algorithms it may verify, or undefined when it may verify none
 * or is malformed. RSA keys must be at least 2048 bits.
 */
export async function importVerificationKeys(
  candidate: unknown,
  allowed: readonly SigningAlgorithm[],
): Promise<VerificationKeys | undefined> {
  if (!isRecord(candidate)) return undefined;
  const algorithms = algorithmsForJwk(candidate, allowed);
  const { kty, n, e } = candidate;
  if (algorithms.length === 0 || kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string') return undefined;
  const keys = new Map<SigningAlgorithm, BoundKey>();
  for (const alg of algorithms) {
    try {
      // Only the public members: nothing else from the document reaches the import.
      const key = await importJWK({ kty, n, e }, alg);
      if (key instanceof Uint8Array) return undefined;
      // bindKey refuses what jose would refuse at verification: RSA under 2048 bits (RFC 7518 section 3.3).
      keys.set(alg, bindKey(alg, key));
    } catch {
      return undefined;
    }
  }
  return keys;
}

/**
 * The usable signing keys of a JWKS document, by `kid`. Keys without a non-empty `kid`, or usable for
 * none of `allowed`, are skipped (a malformed key is skipped, not fatal); for a repeated `kid` the
 * first usable key wins.
 * Not ok when the document has no `keys` array or no usable key.
 */
export async function importKeys(body: unknown, allowed: readonly SigningAlgorithm[]): Promise<JwksImport> {
  const list: unknown = isRecord(body) ? body['keys'] : undefined;
  if (!Array.isArray(list)) return { ok: false, reason: 'JWKS response has no "keys" array' };
  const candidates: readonly unknown[] = list;
  const byKid = new Map<string, VerificationKeys>();
  for (const candidate of candidates) {
    const kid = isRecord(candidate) ? candidate['kid'] : undefined;
    if (typeof kid !== 'string' || kid === '' || byKid.has(kid)) continue;
    const keys = await importVerificationKeys(candidate, allowed);
    if (keys !== undefined) byKid.set(kid, keys);
  }
  if (byKid.size === 0) return { ok: false, reason: `JWKS has no usable ${allowed.join(' or ')} signing key` };
  return { ok: true, byKid };
}
