import { LRUCache } from 'lru-cache';
import { type CryptoKey, EmbeddedJWK, type FlattenedJWSInput, type JWSHeaderParameters, calculateJwkThumbprint } from 'jose';
import { isRecord } from './guards.js';

/**
 * Proof keys already imported, with their thumbprints, by (alg, jwk as sent). A client signs every
 * proof with one key, and importing it cost more than checking the signature (measured on the
 * bench machine: importJWK ~240 µs of jwtVerify's ~450 µs). A new key still goes through jose's
 * EmbeddedJWK, which checks and imports it; an entry is only made for a key it accepted.
 */
export class ProofKeyCache {
  readonly #entries: LRUCache<string, { readonly key: CryptoKey; readonly jkt: string }>;

  /** @param maxKeys how many client keys are kept (default 1 000, a few hundred bytes each). */
  constructor(maxKeys = 1_000) {
    this.#entries = new LRUCache({ maxSize: maxKeys, sizeCalculation: () => 1 });
  }

  /** A jose key resolver: the cached key, or EmbeddedJWK's import of a new one. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    const id = cacheId(header);
    const cached = id === undefined ? undefined : this.#entries.get(id);
    if (cached !== undefined) return cached.key;
    const key = await EmbeddedJWK(header, token);
    if (id !== undefined && header.jwk !== undefined) {
      this.#entries.set(id, { key, jkt: await calculateJwkThumbprint(header.jwk, 'sha256') });
    }
    return key;
  };

  /** The thumbprint of a key `resolve` accepted, without hashing it again. */
  async thumbprint(header: JWSHeaderParameters): Promise<string | undefined> {
    const id = cacheId(header);
    const cached = id === undefined ? undefined : this.#entries.get(id);
    if (cached !== undefined) return cached.jkt;
    return header.jwk === undefined ? undefined : calculateJwkThumbprint(header.jwk, 'sha256');
  }
}

function cacheId(header: JWSHeaderParameters): string | undefined {
  return typeof header.alg === 'string' && isRecord(header.jwk) ? `${header.alg} ${JSON.stringify(header.jwk)}` : undefined;
}
