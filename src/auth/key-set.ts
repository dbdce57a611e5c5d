import type { BoundKey } from './compact-jws.js';
import { type SigningAlgorithm, type VerificationKeys, importKeys } from './jwks-keys.js';

/**
 * One trusted issuer's signing keys (JWKS), fetched over HTTP and shared by every request. Each
 * issuer has its own (see issuers.ts); the JWKS URL comes from configuration only.
 *
 * Bounds (per issuer, per process; defaults below, stated in SECURITY.md):
 * - Fetches never overlap: concurrent callers share the one in flight (coalescing).
 * - A token with an unknown `kid` causes a fetch only if none started in the last
 *   `unknownKidCooldownMs`, so a flood of random `kid`s costs the tenant at most one
 *   request per cooldown window. It is called unknown only after a successful fetch: while the
 *   last fetch failed, the answer is `unavailable` (503), whatever the cooldown.
 * - After a failed fetch, the next one waits `retryDelayMs`, doubling up to `maxRetryDelayMs`;
 *   callers that need keys meanwhile get KeySetUnavailable at once instead of hanging.
 * - Keys older than `refreshIntervalMs` are refreshed by the next request that needs them, which
 *   waits for the fetch: a key removed from the JWKS is trusted at most `refreshIntervalMs` after
 *   the last fetch. If that refresh fails, the last good keys keep answering while retries run in
 *   the background (stale-while-revalidate), until `maxStaleMs` after they were fetched.
 */
export interface KeySetOptions {
  /** Where the keys come from: fixed by configuration, never derived from a token. */
  readonly jwksUri: string;
  /** Algorithms the keys may verify (see jwks-keys.ts). Default RS256 only. */
  readonly algorithms: readonly SigningAlgorithm[];
  /** Deadline of one fetch, ms. Default 5 000. */
  readonly fetchTimeoutMs: number;
  /** Largest JWKS body accepted, bytes. Default 64 KiB. */
  readonly maxResponseBytes: number;
  /** Age after which keys are refreshed before use, ms. Default 10 min. */
  readonly refreshIntervalMs: number;
  /** Least time between fetches caused by unknown kids, ms. Default 30 000. */
  readonly unknownKidCooldownMs: number;
  /** First wait after a failed fetch, ms, doubling per failure. Default 1 000. */
  readonly retryDelayMs: number;
  /** Longest wait between retries, ms. Default 30 000. */
  readonly maxRetryDelayMs: number;
  /** Age after which keys are no longer used at all, ms. Default 6 h. */
  readonly maxStaleMs: number;
  /** Called after every fetch attempt; for logs. */
  readonly onFetch?: (event: KeySetFetchEvent) => void;
  /** Clock, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
}

export type KeySetFetchEvent =
  | { readonly ok: true; readonly kids: readonly string[]; readonly durationMs: number }
  | { readonly ok: false; readonly error: KeySetFetchError; readonly durationMs: number };

export const DEFAULT_KEY_SET_OPTIONS = {
  algorithms: ['RS256'],
  fetchTimeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
  refreshIntervalMs: 10 * 60_000,
  unknownKidCooldownMs: 30_000,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 30_000,
  maxStaleMs: 6 * 60 * 60_000,
} as const satisfies Omit<KeySetOptions, 'jwksUri'>;

export type KeySetFetchErrorCode = 'TIMEOUT' | 'NETWORK' | 'HTTP_STATUS' | 'TOO_LARGE' | 'NOT_JSON' | 'NO_USABLE_KEYS';

/** How a fetch ended: `ok`, or why it failed. */
export type KeySetFetchOutcome = 'ok' | KeySetFetchErrorCode;

/** Why a JWKS fetch failed: `code` is stable, the message is for the log. */
export class KeySetFetchError extends Error {
  override readonly name = 'KeySetFetchError';
  constructor(
    readonly code: KeySetFetchErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

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
  readonly byKid: ReadonlyMap<string, VerificationKeys>;
  readonly fetchedAt: number;
}

export class RemoteKeySet {
  readonly #options: KeySetOptions;
  readonly #now: () => number;
  readonly #listeners = new Set<(kids: ReadonlySet<string>) => void>();
  #keys: LoadedKeys | undefined;
  #inflight: Promise<void> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #nextAttemptAt = Number.NEGATIVE_INFINITY;
  #consecutiveFailures = 0;
  #lastError: unknown;
  #fetchCount = 0;
  readonly #fetchOutcomes = new Map<KeySetFetchOutcome, number>();

  constructor(options: Pick<KeySetOptions, 'jwksUri'> & Partial<KeySetOptions>) {
    this.#options = { ...DEFAULT_KEY_SET_OPTIONS, ...options };
    this.#now = options.now ?? Date.now;
  }

  /** Number of fetches started so far (for tests, logs and the amplification bound). */
  get fetchCount(): number {
    return this.#fetchCount;
  }

  facts(): KeySetFacts {
    return {
      fetchedAt: this.#keys?.fetchedAt,
      fetchCount: this.#fetchCount,
      consecutiveFailures: this.#consecutiveFailures,
      fetchOutcomes: this.#fetchOutcomes,
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
    if (this.#now() >= this.#nextAttemptAt) await this.#refresh();
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
    const now = this.#now();
    let keys = this.#usableKeys();
    const due = keys === undefined || now - keys.fetchedAt >= this.#options.refreshIntervalMs;
    if (due && now >= this.#nextAttemptAt) {
      // Only a fetch that failed after these keys fell due means the tenant is failing now.
      const failingSinceDue =
        keys !== undefined &&
        this.#consecutiveFailures > 0 &&
        this.#lastAttemptAt >= keys.fetchedAt + this.#options.refreshIntervalMs;
      if (!failingSinceDue) {
        // No keys, or the first try of this refresh: wait for it, so a key the tenant removed is
        // trusted at most `refreshIntervalMs` after the last fetch.
        await this.#refresh();
      } else {
        // The tenant is already failing: keep answering with the last good keys, retry behind.
        void this.#refresh();
      }
    }
    keys = this.#usableKeys();
    if (keys === undefined) return this.#unavailable();

    const known = keys.byKid.get(kid);
    if (known !== undefined) return keyFor(known, alg);

    // Unknown kid: maybe the tenant rotated its key. Look again (joining a fetch already under
    // way), but start at most one fetch per cooldown window. While the last fetch failed, nobody
    // knows whether the kid exists: that is an outage (503), not a bad token.
    if (this.#inflight !== undefined) {
      await this.#inflight;
    } else if (this.#consecutiveFailures > 0) {
      if (now < this.#nextAttemptAt) return this.#unavailable();
      await this.#refresh(); // the retry the back-off allows now; bounded by it, not by kids
    } else if (now - this.#lastAttemptAt < this.#options.unknownKidCooldownMs) {
      return { status: 'unknown-kid', fetchedAt: keys.fetchedAt };
    } else {
      await this.#refresh();
    }
    const refreshed = this.#usableKeys();
    if (refreshed === undefined || this.#consecutiveFailures > 0) return this.#unavailable();
    const rotated = refreshed.byKid.get(kid);
    return rotated === undefined ? { status: 'unknown-kid', fetchedAt: refreshed.fetchedAt } : keyFor(rotated, alg);
  }

  #usableKeys(): LoadedKeys | undefined {
    const keys = this.#keys;
    if (keys === undefined || this.#now() - keys.fetchedAt > this.#options.maxStaleMs) return undefined;
    return keys;
  }

  #unavailable(): KeyLookup {
    return {
      status: 'unavailable',
      retryAfterMs: Math.max(0, this.#nextAttemptAt - this.#now()),
      cause: this.#lastError,
    };
  }

  #countOutcome(outcome: KeySetFetchOutcome): void {
    this.#fetchOutcomes.set(outcome, (this.#fetchOutcomes.get(outcome) ?? 0) + 1);
  }

  /** One fetch at a time; every caller during it waits for the same one. Never rejects. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetchAndStore().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchAndStore(): Promise<void> {
    const started = this.#now();
    this.#lastAttemptAt = started;
    this.#fetchCount += 1;
    try {
      const imported = await importKeys(await fetchJwks(this.#options), this.#options.algorithms);
      if (!imported.ok) throw new KeySetFetchError('NO_USABLE_KEYS', imported.reason);
      const { byKid } = imported;
      this.#keys = { byKid, fetchedAt: this.#now() };
      this.#consecutiveFailures = 0;
      this.#nextAttemptAt = Number.NEGATIVE_INFINITY;
      this.#lastError = undefined;
      this.#countOutcome('ok');
      const kids = new Set(byKid.keys());
      this.#options.onFetch?.({ ok: true, kids: [...kids], durationMs: this.#now() - started });
      for (const listener of this.#listeners) listener(kids);
    } catch (error) {
      const failure =
        error instanceof KeySetFetchError
          ? error
          : new KeySetFetchError('NETWORK', 'unexpected error while loading the signing keys', { cause: error });
      this.#consecutiveFailures += 1;
      const delay = Math.min(
        this.#options.retryDelayMs * 2 ** (this.#consecutiveFailures - 1),
        this.#options.maxRetryDelayMs,
      );
      this.#nextAttemptAt = this.#now() + delay;
      this.#lastError = failure;
      this.#countOutcome(failure.code);
      this.#options.onFetch?.({ ok: false, error: failure, durationMs: this.#now() - started });
    }
  }
}

function keyFor(keys: VerificationKeys, alg: SigningAlgorithm): KeyLookup {
  const key = keys.get(alg);
  return key === undefined ? { status: 'wrong-algorithm' } : { status: 'found', key };
}

/** GET the JWKS with a deadline and a size cap; returns the parsed JSON. */
async function fetchJwks(options: KeySetOptions): Promise<unknown> {
  const signal = AbortSignal.timeout(options.fetchTimeoutMs);
  let response: Response;
  try {
    // No redirects: the keys must come from the configured tenant and nowhere else.
    response = await fetch(options.jwksUri, { signal, redirect: 'error', headers: { accept: 'application/json' } });
  } catch (error) {
    throw fetchFailure(error, signal);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeySetFetchError('HTTP_STATUS', `JWKS endpoint answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > options.maxResponseBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeySetFetchError('TOO_LARGE', `JWKS response declares ${declared} bytes, over the ${options.maxResponseBytes}-byte limit`);
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (response.body !== null) {
      // Leaving the loop early (throw) releases and cancels the stream.
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > options.maxResponseBytes) {
          throw new KeySetFetchError('TOO_LARGE', `JWKS response is over the ${options.maxResponseBytes}-byte limit`);
        }
        chunks.push(chunk);
      }
    }
  } catch (error) {
    if (error instanceof KeySetFetchError) throw error;
    throw fetchFailure(error, signal);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new KeySetFetchError('NOT_JSON', 'JWKS response is not JSON', { cause: error });
  }
}

function fetchFailure(error: unknown, signal: AbortSignal): KeySetFetchError {
  if (signal.aborted) return new KeySetFetchError('TIMEOUT', 'JWKS request timed out', { cause: error });
  return new KeySetFetchError('NETWORK', 'JWKS request failed', { cause: error });
}
