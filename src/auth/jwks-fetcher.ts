import { type SigningAlgorithm, type VerificationKeys, importKeys } from './jwks-keys.js';

/**
 * Fetching one issuer's JWKS: one request at a time, back-off after failures, and the budget of
 * fetches that tokens with unknown `kid`s may cause. Knows nothing of lookups (key-set.ts does).
 *
 * - Fetches never overlap: concurrent callers share the one in flight (coalescing).
 * - After a failed fetch, the next one waits `retryDelayMs`, doubling up to `maxRetryDelayMs`.
 * - Unknown-kid budget: a token bucket per issuer, full at start with `unknownKidFetchBurst`
 *   fetches and refilled with one every `unknownKidFetchRefillMs`. A key the tenant published a
 *   moment ago is fetched on its first request (issue 15: a fixed 30 s cooldown refused it), and a
 *   flood of random `kid`s costs at most burst + 60 s / refill fetches a minute (3 + 6 = 9 by default).
 */
export interface JwksFetcherOptions {
  /** Where the keys come from: fixed by configuration, never derived from a token. */
  readonly jwksUri: string;
  /** Algorithms the keys may verify (see jwks-keys.ts). Default RS256 only. */
  readonly algorithms: readonly SigningAlgorithm[];
  /** Deadline of one fetch, ms. Default 5 000. */
  readonly fetchTimeoutMs: number;
  /** Largest JWKS body accepted, bytes. Default 64 KiB. */
  readonly maxResponseBytes: number;
  /** Fetches unknown kids may cause at once (bucket size). Default 3. */
  readonly unknownKidFetchBurst: number;
  /** Time to earn back one unknown-kid fetch, ms. Default 10 000. */
  readonly unknownKidFetchRefillMs: number;
  /** First wait after a failed fetch, ms, doubling per failure. Default 1 000. */
  readonly retryDelayMs: number;
  /** Longest wait between retries, ms. Default 30 000. */
  readonly maxRetryDelayMs: number;
  /** Called after every fetch attempt; for logs. */
  readonly onFetch?: (event: KeySetFetchEvent) => void;
  /** Clock, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
}

export const DEFAULT_FETCHER_OPTIONS = {
  algorithms: ['RS256'],
  fetchTimeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
  unknownKidFetchBurst: 3,
  unknownKidFetchRefillMs: 10_000,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 30_000,
} as const satisfies Omit<JwksFetcherOptions, 'jwksUri'>;

export type KeySetFetchEvent =
  | { readonly ok: true; readonly kids: readonly string[]; readonly durationMs: number }
  | { readonly ok: false; readonly error: KeySetFetchError; readonly durationMs: number };

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

/** The keys of one successful fetch, by kid. */
export type KeysByKid = ReadonlyMap<string, VerificationKeys>;

export class JwksFetcher {
  readonly #options: JwksFetcherOptions;
  readonly #now: () => number;
  readonly #onKeys: (byKid: KeysByKid, fetchedAt: number) => void;
  #inflight: Promise<void> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #nextAttemptAt = Number.NEGATIVE_INFINITY;
  #consecutiveFailures = 0;
  #lastError: unknown;
  #fetchCount = 0;
  readonly #fetchOutcomes = new Map<KeySetFetchOutcome, number>();
  #budgetMs: number;
  #budgetAt: number;

  /** `onKeys` receives the keys of every successful fetch, before any caller waiting on it resumes. */
  constructor(options: JwksFetcherOptions, onKeys: (byKid: KeysByKid, fetchedAt: number) => void) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#onKeys = onKeys;
    this.#budgetMs = options.unknownKidFetchBurst * options.unknownKidFetchRefillMs;
    this.#budgetAt = this.#now();
  }

  /** The fetch under way, if any: join it rather than start another. */
  get inflight(): Promise<void> | undefined {
    return this.#inflight;
  }

  /** True while the last fetch failed. */
  get failing(): boolean {
    return this.#consecutiveFailures > 0;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** When the last fetch started (ms on the clock); -Infinity before the first. */
  get lastAttemptAt(): number {
    return this.#lastAttemptAt;
  }

  /** Why the last fetch failed; undefined after a success. */
  get lastError(): unknown {
    return this.#lastError;
  }

  get fetchCount(): number {
    return this.#fetchCount;
  }

  /** Finished fetches by outcome, counted since start. */
  get fetchOutcomes(): ReadonlyMap<KeySetFetchOutcome, number> {
    return this.#fetchOutcomes;
  }

  /** False while the back-off after a failure runs. */
  mayFetch(): boolean {
    return this.#now() >= this.#nextAttemptAt;
  }

  /** How long until the back-off allows a fetch, ms (0 if it does now). */
  backoffRemainingMs(): number {
    return Math.max(0, this.#nextAttemptAt - this.#now());
  }

  /** Takes one unknown-kid fetch from the budget; false (and nothing taken) when it is spent. */
  takeUnknownKidFetch(): boolean {
    this.#refillBudget();
    if (this.#budgetMs < this.#options.unknownKidFetchRefillMs) return false;
    this.#budgetMs -= this.#options.unknownKidFetchRefillMs;
    return true;
  }

  /** How long until the budget holds one fetch again, ms (0 if it does now). */
  budgetRemainingMs(): number {
    this.#refillBudget();
    return Math.max(0, this.#options.unknownKidFetchRefillMs - this.#budgetMs);
  }

  /** One fetch at a time; every caller during it waits for the same one. Never rejects. */
  fetch(): Promise<void> {
    this.#inflight ??= this.#fetchAndStore().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** The bucket is kept in ms of refill time (one fetch = `unknownKidFetchRefillMs`): integers, no rounding drift. */
  #refillBudget(): void {
    const now = this.#now();
    const capacityMs = this.#options.unknownKidFetchBurst * this.#options.unknownKidFetchRefillMs;
    this.#budgetMs = Math.min(capacityMs, this.#budgetMs + Math.max(0, now - this.#budgetAt));
    this.#budgetAt = now;
  }

  #countOutcome(outcome: KeySetFetchOutcome): void {
    this.#fetchOutcomes.set(outcome, (this.#fetchOutcomes.get(outcome) ?? 0) + 1);
  }

  async #fetchAndStore(): Promise<void> {
    const started = this.#now();
    this.#lastAttemptAt = started;
    this.#fetchCount += 1;
    try {
      const imported = await importKeys(await fetchJwks(this.#options), this.#options.algorithms);
      if (!imported.ok) throw new KeySetFetchError('NO_USABLE_KEYS', imported.reason);
      this.#consecutiveFailures = 0;
      this.#nextAttemptAt = Number.NEGATIVE_INFINITY;
      this.#lastError = undefined;
      this.#countOutcome('ok');
      this.#onKeys(imported.byKid, this.#now());
      this.#options.onFetch?.({ ok: true, kids: [...imported.byKid.keys()], durationMs: this.#now() - started });
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

/** GET the JWKS with a deadline and a size cap; returns the parsed JSON. */
async function fetchJwks(options: JwksFetcherOptions): Promise<unknown> {
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
