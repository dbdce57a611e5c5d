import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * The in-memory, bounded, expiring map behind codes, sessions, login transactions and refresh
 * tokens. Time is passed in (seconds), never read from the clock, so tests control it. When full,
 * the least recently used entry goes first: a flood of logins cannot grow memory.
 */
export class ExpiringStore<V extends object> {
  readonly #entries: LRUCache<string, { readonly value: V; readonly expiresAt: number }>;

  constructor(maxEntries: number) {
    this.#entries = new LRUCache({ max: maxEntries });
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#entries.set(key, { value, expiresAt });
  }

  /** The value, or undefined when unknown or expired (an expired entry is dropped). */
  get(key: string, nowSeconds: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (nowSeconds >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry `matches` selects. */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries.entries()) {
      if (matches(entry.value)) this.#entries.delete(key);
    }
  }
}

/** 256 random bits, base64url: codes, session ids, refresh tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
