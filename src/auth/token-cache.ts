import { LRUCache } from 'lru-cache';
import type { JWTPayload } from 'jose';
import type { TokenCacheConfig } from '../config/config.js';

/** The key set that verified a token: asked on every hit whether its key is still fresh. */
export interface FreshKeys {
  hasFreshKid(kid: string): boolean;
}

export interface CachedToken {
  /** The whole token: compared on every hit, since entries are found by the token's tail. */
  readonly token: string;
  readonly claims: JWTPayload;
  readonly kid: string;
  /** The issuer's key set the token was verified with (kids are only unique within one issuer). */
  readonly keys: FreshKeys;
  /** `exp` in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Tokens whose signature and claims were checked, so a client that repeats its token skips the RSA
 * work. A hit needs the exact same token string. An entry is honoured only while the token has not
 * expired (checked on every hit, not just by the LRU's clock), for at most `maxAgeSeconds`, and
 * only while its signing key is still in its issuer's JWKS (see `retainKids`).
 *
 * Entries are found by the token's last KEY_LENGTH characters (the end of its signature), then the
 * whole token is compared: hashing the whole ~700-character token for the map lookup cost more
 * than the rest of the lookup (measured, BENCHMARKS.md). Two tokens with the same tail only evict
 * each other; neither is ever taken for the other.
 */
export class TokenCache {
  readonly #entries: LRUCache<string, CachedToken>;
  readonly #maxAgeMs: number;
  // Plain counters, read by the metrics at scrape time: the request path makes no metrics call.
  #hits = 0;
  #misses = 0;

  /** 43 base64url characters: 256 bits of the signature, as unique as the whole token for honest tokens. */
  static readonly KEY_LENGTH = 43;

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

  /**
   * Like `get`, but a miss is not counted: for a first look on the fast path, which is followed on
   * a miss by the full check (and its `get`), so each request counts one hit or one miss.
   */
  peek(token: string, now: number, toleranceMs: number): CachedToken | undefined {
    const entry = this.#usableEntry(token, now, toleranceMs);
    if (entry !== undefined) this.#hits += 1;
    return entry;
  }

  #usableEntry(token: string, now: number, toleranceMs: number): CachedToken | undefined {
    const key = token.slice(-TokenCache.KEY_LENGTH);
    const entry = this.#entries.get(key);
    if (entry?.token !== token) return undefined;
    if (entry.expiresAt + toleranceMs <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.keys.hasFreshKid(entry.kid) ? entry : undefined;
  }

  set(entry: CachedToken, now: number): void {
    const ttl = Math.min(entry.expiresAt - now, this.#maxAgeMs);
    if (ttl > 0) this.#entries.set(entry.token.slice(-TokenCache.KEY_LENGTH), entry, { ttl });
  }

  /** Drops every entry verified by `keys` whose key has left that key set. */
  retainKids(keys: FreshKeys, kids: ReadonlySet<string>): void {
    for (const [key, entry] of this.#entries.entries()) {
      if (entry.keys === keys && !kids.has(entry.kid)) this.#entries.delete(key);
    }
  }
}
