import { LRUCache } from 'lru-cache';
import type { JWTPayload } from 'jose';
import type { TokenCacheConfig } from '../config/config.js';

/** The key set that verified a token: asked on every hit whether its key is still fresh. */
export interface FreshKeys {
  hasFreshKid(kid: string): boolean;
}

export interface CachedToken {
  readonly claims: JWTPayload;
  readonly kid: string;
  /** The issuer's key set the token was verified with (kids are only unique within one issuer). */
  readonly keys: FreshKeys;
  /** `exp` in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Tokens whose signature and claims were checked, keyed by the exact token string, so a client
 * that repeats its token skips the RSA work. An entry is honoured only while the token has not
 * expired (checked on every hit, not just by the LRU's clock), for at most `maxAgeSeconds`, and
 * only while its signing key is still in its issuer's JWKS (see `retainKids`).
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
   * The entry if still valid at `now` (with the same clock tolerance the verifier uses) and its key
   * set still holds its signing key fresh (not due for refresh); otherwise undefined, and the token
   * must be verified.
   */
  get(token: string, now: number, toleranceMs: number): CachedToken | undefined {
    const entry = this.#usableEntry(token, now, toleranceMs);
    if (entry === undefined) this.#misses += 1;
    else this.#hits += 1;
    return entry;
  }

  #usableEntry(token: string, now: number, toleranceMs: number): CachedToken | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt + toleranceMs <= now) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.keys.hasFreshKid(entry.kid) ? entry : undefined;
  }

  set(token: string, entry: CachedToken, now: number): void {
    const ttl = Math.min(entry.expiresAt - now, this.#maxAgeMs);
    if (ttl > 0) this.#entries.set(token, entry, { ttl });
  }

  /** Drops every entry verified by `keys` whose key has left that key set. */
  retainKids(keys: FreshKeys, kids: ReadonlySet<string>): void {
    for (const [token, entry] of this.#entries.entries()) {
      if (entry.keys === keys && !kids.has(entry.kid)) this.#entries.delete(token);
    }
  }
}
