import { LRUCache } from 'lru-cache';
import type { JWTPayload } from 'jose';
import type { TokenCacheConfig } from '../config/config.js';

export interface CachedToken {
  readonly claims: JWTPayload;
  readonly kid: string;
  /** `exp` in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Tokens whose signature and claims were checked, keyed by the exact token string, so a client
 * that repeats its token skips the RSA work. An entry is honoured only while the token has not
 * expired (checked on every hit, not just by the LRU's clock), for at most `maxAgeSeconds`, and
 * only while its signing key is still in the tenant's JWKS (see `retainKids`).
 */
export class TokenCache {
  readonly #entries: LRUCache<string, CachedToken>;
  readonly #maxAgeMs: number;
  // Plain counters, read by the metrics at scrape time: the request path makes no metrics call.
  #hits = 0;
  #misses = 0;

  constructor(config: TokenCacheConfig) {
    this.#maxAgeMs = config.maxAgeSeconds * 1000;
    this.#entries = new LRUCache({ max: Math.max(1, config.maxEntries), ttl: Math.max(1, this.#maxAgeMs) });
  }

  static create(config: TokenCacheConfig): TokenCache | null {
    return config.maxEntries > 0 && config.maxAgeSeconds > 0 ? new TokenCache(config) : null;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lookups answered from the cache, since start. */
  get hits(): number {
    return this.#hits;
  }

  /** Lookups that left the token to be verified, since start. */
  get misses(): number {
    return this.#misses;
  }

  /**
   * The entry if still valid at `now` (with the same clock tolerance the verifier uses) and
   * `trustsKid` still trusts its signing key; otherwise undefined, and the token must be verified.
   */
  get(token: string, now: number, toleranceMs: number, trustsKid: (kid: string) => boolean): CachedToken | undefined {
    const entry = this.#usableEntry(token, now, toleranceMs, trustsKid);
    if (entry === undefined) this.#misses += 1;
    else this.#hits += 1;
    return entry;
  }

  #usableEntry(token: string, now: number, toleranceMs: number, trustsKid: (kid: string) => boolean): CachedToken | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt + toleranceMs <= now) {
      this.#entries.delete(token);
      return undefined;
    }
    return trustsKid(entry.kid) ? entry : undefined;
  }

  set(token: string, entry: CachedToken, now: number): void {
    const ttl = Math.min(entry.expiresAt - now, this.#maxAgeMs);
    if (ttl > 0) this.#entries.set(token, entry, { ttl });
  }

  /** Drops every entry signed by a key that has left the key set. */
  retainKids(kids: ReadonlySet<string>): void {
    for (const [token, entry] of this.#entries.entries()) {
      if (!kids.has(entry.kid)) this.#entries.delete(token);
    }
  }
}
