import type { BoundKey } from './compact-jws.js';
import {
  DEFAULT_FETCHER_OPTIONS,
  JwksFetcher,
  type JwksFetcherOptions,
  type KeySetFetchOutcome,
  type KeysByKid,
} from './jwks-fetcher.js';
import type { SigningAlgorithm, VerificationKeys } from './jwks-keys.js';

export {
  KeySetFetchError,
  type KeySetFetchErrorCode,
  type KeySetFetchEvent,
  type KeySetFetchOutcome,
} from './jwks-fetcher.js';

/**
 * One trusted issuer's signing keys (JWKS), shared by every request, and the lookups of a token's
 * key. Each issuer has its own (see issuers.ts); fetching, back-off and the unknown-kid budget are
 * in jwks-fetcher.ts.
 *
 * Bounds (per issuer, per process; defaults below, stated in SECURITY.md):
 * - A token with an unknown `kid` causes a fetch at once while the unknown-kid budget allows
 *   (jwks-fetcher.ts), joining one already under way. It is called unknown only after a successful
 *   fetch: while the last fetch failed, the answer is `unavailable` (503), budget or not.
 * - After a failed fetch, callers that need keys get `unavailable` at once while the back-off runs
 *   instead of hanging.
 * - Keys older than `refreshIntervalMs` are refreshed by the next request that needs them, which
 *   waits for the fetch: a key removed from the JWKS is trusted at most `refreshIntervalMs` after
 *   the last fetch. If that refresh fails, the last good keys keep answering while retries run in
 *   the background (stale-while-revalidate), until `maxStaleMs` after they were fetched.
 */
export interface KeySetOptions extends JwksFetcherOptions {
  /** Age after which keys are refreshed before use, ms. Default 10 min. */
  readonly refreshIntervalMs: number;
  /** Age after which keys are no longer used at all, ms. Default 6 h. */
  readonly maxStaleMs: number;
}

export const DEFAULT_KEY_SET_OPTIONS = {
  ...DEFAULT_FETCHER_OPTIONS,
  refreshIntervalMs: 10 * 60_000,
  maxStaleMs: 6 * 60 * 60_000,
} as const satisfies Omit<KeySetOptions, 'jwksUri'>;

/**
 * The outcome of asking the key set for the key a token names. `unknown-kid` only ever follows a
 * successful fetch; `wrong-algorithm` means the kid is there but not for the token's `alg`.
 */
export type KeyLookup =
  | { readonly status: 'found'; readonly key: BoundKey }
  | { readonly status: 'unknown-kid'; readonly fetchedAt: number }
  | { readonly status: 'wrong-algorithm' }
  | { readonly status: 'unavailable'; readonly retryAfterMs: number; readonly cause: unknown };

/** Read-only facts about a key set, for metrics and logs: the one view of its state from outside. */
export interface KeySetFacts {
  /** When the keys in use were fetched (ms, on the `now` clock); undefined before the first success. */
  readonly fetchedAt: number | undefined;
  /** Fetches started so far, successful or not. */
  readonly fetchCount: number;
  /** Fetches that failed in a row since the last success. */
  readonly consecutiveFailures: number;
  /** Finished fetches by outcome, counted since start (read by the metrics at scrape time). */
  readonly fetchOutcomes: ReadonlyMap<KeySetFetchOutcome, number>;
}

interface LoadedKeys {
  readonly byKid: KeysByKid;
  readonly fetchedAt: number;
}

export class RemoteKeySet {
  readonly #options: KeySetOptions;
  readonly #now: () => number;
  readonly #fetcher: JwksFetcher;
  readonly #listeners = new Set<(kids: ReadonlySet<string>) => void>();
  #keys: LoadedKeys | undefined;

  constructor(options: Pick<KeySetOptions, 'jwksUri'> & Partial<KeySetOptions>) {
    this.#options = { ...DEFAULT_KEY_SET_OPTIONS, ...options };
    this.#now = options.now ?? Date.now;
    this.#fetcher = new JwksFetcher(this.#options, (byKid, fetchedAt) => {
      this.#keys = { byKid, fetchedAt };
      const kids = new Set(byKid.keys());
      for (const listener of this.#listeners) listener(kids);
    });
  }

  /** Number of fetches started so far (for tests, logs and the amplification bound). */
  get fetchCount(): number {
    return this.#fetcher.fetchCount;
  }

  facts(): KeySetFacts {
    return {
      fetchedAt: this.#keys?.fetchedAt,
      fetchCount: this.#fetcher.fetchCount,
      consecutiveFailures: this.#fetcher.consecutiveFailures,
      fetchOutcomes: this.#fetcher.fetchOutcomes,
    };
  }

  /** True while usable keys are held (fetched less than `maxStaleMs` ago). */
  isReady(): boolean {
    return this.#usableKeys() !== undefined;
  }

  /**
   * True if `kid` is among keys fetched less than `refreshIntervalMs` ago: what a cache of verified
   * tokens may trust without going through `lookup` (which refreshes keys that are due).
   */
  hasFreshKid(kid: string): boolean {
    const keys = this.#keys;
    return keys !== undefined && this.#now() - keys.fetchedAt < this.#options.refreshIntervalMs && keys.byKid.has(kid);
  }

  /** Called with the new set of kids after each successful fetch. */
  onKeysChanged(listener: (kids: ReadonlySet<string>) => void): void {
    this.#listeners.add(listener);
  }

  /** Loads keys if none are usable; never throws (for start-up and /readyz). */
  async warm(): Promise<boolean> {
    if (this.isReady()) return true;
    if (this.#fetcher.mayFetch()) await this.#fetcher.fetch();
    return this.isReady();
  }

  /**
   * What `lookup` answers at once for a kid among keys fetched less than `refreshIntervalMs` ago
   * (nothing due, nothing to fetch); undefined in every other case, where the caller awaits
   * `lookup`. Lets a token signed by a known key be checked without a promise.
   */
  lookupNow(kid: string, alg: SigningAlgorithm): KeyLookup | undefined {
    const keys = this.#usableKeys();
    if (keys === undefined || this.#now() - keys.fetchedAt >= this.#options.refreshIntervalMs) return undefined;
    const known = keys.byKid.get(kid);
    return known === undefined ? undefined : keyFor(known, alg);
  }

  async lookup(kid: string, alg: SigningAlgorithm): Promise<KeyLookup> {
    const fetcher = this.#fetcher;
    let keys = this.#usableKeys();
    const due = keys === undefined || this.#now() - keys.fetchedAt >= this.#options.refreshIntervalMs;
    let waited = false;
    if (due && fetcher.mayFetch()) {
      // Only a fetch that failed after these keys fell due means the tenant is failing now.
      const failingSinceDue =
        keys !== undefined && fetcher.failing && fetcher.lastAttemptAt >= keys.fetchedAt + this.#options.refreshIntervalMs;
      if (!failingSinceDue) {
        // No keys, or the first try of this refresh: wait for it, so a key the tenant removed is
        // trusted at most `refreshIntervalMs` after the last fetch.
        await fetcher.fetch();
        waited = true;
      } else {
        // The tenant is already failing: keep answering with the last good keys, retry behind.
        void fetcher.fetch();
      }
    }
    keys = this.#usableKeys();
    if (keys === undefined) return this.#unavailable();

    const known = keys.byKid.get(kid);
    if (known !== undefined) return keyFor(known, alg);

    // Unknown kid: maybe the tenant rotated its key a moment ago. Look again at once (joining a
    // fetch already under way) while the budget allows. While the last fetch failed, nobody knows
    // whether the kid exists: that is an outage (503), not a bad token.
    if (waited && !fetcher.failing) {
      return { status: 'unknown-kid', fetchedAt: keys.fetchedAt }; // this request's own fetch just said so
    } else if (fetcher.inflight !== undefined) {
      await fetcher.inflight;
    } else if (!fetcher.mayFetch()) {
      return this.#unavailable(); // only after a failure: the back-off runs
    } else if (fetcher.takeUnknownKidFetch()) {
      await fetcher.fetch();
    } else if (fetcher.failing) {
      return this.#unavailable(fetcher.budgetRemainingMs());
    } else {
      return { status: 'unknown-kid', fetchedAt: keys.fetchedAt };
    }
    const refreshed = this.#usableKeys();
    if (refreshed === undefined || fetcher.failing) return this.#unavailable();
    const rotated = refreshed.byKid.get(kid);
    return rotated === undefined ? { status: 'unknown-kid', fetchedAt: refreshed.fetchedAt } : keyFor(rotated, alg);
  }

  #usableKeys(): LoadedKeys | undefined {
    const keys = this.#keys;
    if (keys === undefined || this.#now() - keys.fetchedAt > this.#options.maxStaleMs) return undefined;
    return keys;
  }

  /** `unavailable`, to retry once the back-off (and `atLeastMs`, e.g. the budget's wait) has passed. */
  #unavailable(atLeastMs = 0): KeyLookup {
    return {
      status: 'unavailable',
      retryAfterMs: Math.max(atLeastMs, this.#fetcher.backoffRemainingMs()),
      cause: this.#fetcher.lastError,
    };
  }
}

function keyFor(keys: VerificationKeys, alg: SigningAlgorithm): KeyLookup {
  const key = keys.get(alg);
  return key === undefined ? { status: 'wrong-algorithm' } : { status: 'found', key };
}
