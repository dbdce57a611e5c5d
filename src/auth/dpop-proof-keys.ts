import { LRUCache } from 'lru-cache';
import { EmbeddedJWK, type JWK, calculateJwkThumbprint } from 'jose';
import { type BoundKey, bindKey } from './compact-jws.js';

/** A proof header that passed every header check, with its key imported and bound to its alg. */
export interface ProofKey {
  readonly header: Record<string, unknown>;
  readonly alg: string;
  readonly b64: boolean;
  readonly key: BoundKey;
  /** RFC 7638 SHA-256 thumbprint of the key: what `cnf.jkt` must equal. */
  readonly jkt: string;
}

/**
 * The key of a proof header, as jose's EmbeddedJWK imports and checks it (a public JWK fit for the
 * header's alg), bound for node:crypto, with its thumbprint. Rejects with jose's errors or a TypeError.
 */
export async function importProofKey(header: Record<string, unknown>, checked: { readonly alg: string; readonly b64: boolean }): Promise<ProofKey> {
  // EmbeddedJWK reads `jwk` and `alg`, and checks both itself; the header is a parsed JSON object.
  const cryptoKey = await EmbeddedJWK(header);
  const key = bindKey(checked.alg, cryptoKey);
  const jkt = await calculateJwkThumbprint(header['jwk'] as JWK, 'sha256');
  return { header, alg: checked.alg, b64: checked.b64, key, jkt };
}

/**
 * Proof keys already imported, by the proof's protected header exactly as sent (base64url). A client
 * signs every proof with one key and the same header, so the header is decoded, checked, and its key
 * imported and thumbprinted once (measured on the bench machine: importJWK ~240 µs of jose's
 * jwtVerify's ~450 µs); every later proof costs one node:crypto verification. An entry is made only
 * for a header that passed every check and whose key was imported.
 */
export class ProofKeyCache {
  readonly #entries: LRUCache<string, ProofKey>;

  /** @param maxKeys how many client headers are kept (default 1 000, about a kilobyte each). */
  constructor(maxKeys = 1_000) {
    this.#entries = new LRUCache({ maxSize: maxKeys, sizeCalculation: () => 1 });
  }

  get(encodedHeader: string): ProofKey | undefined {
    return this.#entries.get(encodedHeader);
  }

  set(encodedHeader: string, key: ProofKey): void {
    this.#entries.set(encodedHeader, key);
  }
}
