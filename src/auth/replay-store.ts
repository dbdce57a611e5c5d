import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DpopKeyShareFullError, InvalidDpopProofError, ReplayStoreUnavailableError } from '../errors/http-errors.js';
import { PROOF_CLOCK_SKEW_SECONDS } from './dpop-proof.js';
import { ReplayKeyShares } from './replay-key-shares.js';

/** The store key of a proof: its key's thumbprint and its jti, hashed to a fixed 43 characters. */
export function replayKey(jkt: string, jti: string): string {
  return createHash('sha256').update(`${jkt} ${jti}`, 'utf8').digest('base64url');
}

/** Who made a proof and when: what the rules beyond replay need (the API gives it for every proof). */
export interface ProofSource {
  /** The proof key's thumbprint: one key holds at most its share of the store. */
  readonly jkt: string;
  /** The proof's `iat`, in ms since the epoch. */
  readonly issuedAt: number;
}

/**
 * Where accepted DPoP proofs are remembered until they would be refused as too old anyway, so each
 * proof is accepted once (RFC 9449 section 11.1). Keys are fixed-length hashes (see replayKey).
 *
 * A store that lost its memory (a restarted process, a Redis restarted empty) cannot tell a replay
 * of a proof it accepted before, so it refuses every proof that may predate its memory: `iat`
 * earlier than the moment it started remembering plus the future skew a proof may carry
 * (refusalBeforeMemory).
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAt` (ms since the epoch). Resolves true the first time, false if
   * the key is already recorded; rejects with ReplayStoreUnavailableError when it cannot tell.
   * With `source`, also rejects a proof that may predate the store's memory (refusalBeforeMemory),
   * and with DpopKeyShareFullError when its key already holds its whole share.
   */
  remember(key: string, expiresAt: number, now: number, source?: ProofSource): Promise<boolean>;
  close(): Promise<void>;
}

export interface MemoryReplayStoreOptions {
  /** Live proofs one key may hold (DPOP_REPLAY_MAX_PER_KEY); default: the whole store. */
  readonly maxPerKey?: number;
  /**
   * When its memory starts, in ms since the epoch: the process start for the API (a proof accepted
   * by an earlier process is older); default: when the store is made.
   */
  readonly startedAt?: number;
  /**
   * How far past `startedAt` a proof the previous process accepted may be dated (ms): the future
   * skew (default), or 0 when a proof dated ahead must carry this process's nonce (authenticate.ts).
   */
  readonly startMarginMs?: number;
  /** What entries age by, in ms (default performance.now); tests pass a fake one. */
  readonly clock?: () => number;
}

/** One process, one clock: a proof it accepted had `iat` at most the future skew past its last moment. */
export const MEMORY_START_MARGIN_MS = PROOF_CLOCK_SKEW_SECONDS * 1000;

/**
 * The refusal of a proof a store may have accepted before its memory started at `startedAt`, or
 * undefined. A proof accepted before then carries `iat` < startedAt + marginMs (marginMs: the future
 * skew a proof may carry, see each store), so every such proof is refused:
 * - `iat` (a whole second) ended before the start: 401 `invalid_dpop_proof` (check `store_restart`): it was made before;
 * - `iat` within the margin after it: 503 with Retry-After until the margin has passed, for it may be
 *   a fresh proof as well as an old one made by a clock running ahead; a fresh proof passes then.
 */
export function refusalBeforeMemory(issuedAt: number, startedAt: number, marginMs: number, now: number): Error | undefined {
  if (issuedAt >= startedAt + marginMs) return undefined;
  const since = new Date(startedAt).toISOString();
  // iat counts whole seconds: made before the start only if its whole second was.
  if (issuedAt + 1000 <= startedAt) return new InvalidDpopProofError('store_restart', `iat is before the replay store started remembering (${since})`);
  // One more second so the next proof's (whole-second) iat is past the margin.
  const waitSeconds = Math.ceil((startedAt + marginMs - now) / 1000) + 1;
  const cause = new Error(`iat is within ${String(marginMs)} ms after the replay store started remembering (${since}): proofs pass from then`);
  return new ReplayStoreUnavailableError({ cause }, waitSeconds);
}

/** A bounded store for one process. Every worker of one API needs the shared store instead (redis-replay-store.ts). */
export class MemoryReplayStore implements ReplayStore {
  readonly #entries: LRUCache<string, true>;
  readonly #maxEntries: number;
  readonly #onFull: () => Error;
  readonly #shares: ReplayKeyShares;
  /** When this store started remembering (ms since the epoch): proofs from before may have been accepted. */
  readonly startedAt: number;
  readonly #startMarginMs: number;

  /**
   * @param maxEntries how many live proofs it holds (DPOP_REPLAY_MAX_ENTRIES, default 200 000: about
   *   2 800 fresh proofs a second over the 70 s an entry lives, some 30 MB). When every slot holds a
   *   live proof, `remember` rejects with `onFull()` (a 503) rather than forget one that could be replayed.
   */
  constructor(maxEntries: number, onFull: () => Error, options: MemoryReplayStoreOptions = {}) {
    this.#maxEntries = maxEntries;
    this.#onFull = onFull;
    this.#shares = new ReplayKeyShares(options.maxPerKey ?? maxEntries, maxEntries);
    this.startedAt = options.startedAt ?? Date.now();
    this.#startMarginMs = options.startMarginMs ?? MEMORY_START_MARGIN_MS;
    // Bounded by maxSize (one unit per proof) rather than `max`, which would allocate arrays for
    // every slot up front (measured: 9 MB of RSS at 200 000) even when no client uses DPoP.
    // ttlAutopurge off: expired entries are dropped lazily, and purged in bulk only when full.
    this.#entries = new LRUCache({
      maxSize: maxEntries,
      sizeCalculation: () => 1,
      ttlResolution: 0,
      ...(options.clock !== undefined && { perf: { now: options.clock } }),
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  remember(key: string, expiresAt: number, now: number, source?: ProofSource): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - now);
    const beforeMemory = source === undefined ? undefined : refusalBeforeMemory(source.issuedAt, this.startedAt, this.#startMarginMs, now);
    if (beforeMemory !== undefined) return Promise.reject(beforeMemory);
    if (this.#entries.has(key)) return Promise.resolve(false);
    const waitMs = source === undefined ? 0 : this.#shares.waitMs(source.jkt, now);
    if (waitMs > 0) return Promise.reject(new DpopKeyShareFullError(waitMs / 1000));
    if (this.#entries.size >= this.#maxEntries) {
      this.#entries.purgeStale();
      this.#shares.sweep(now);
      if (this.#entries.size >= this.#maxEntries) return Promise.reject(this.#onFull());
    }
    this.#entries.set(key, true, { ttl });
    if (source !== undefined) this.#shares.add(source.jkt, now + ttl, now);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.#entries.clear();
    this.#shares.clear();
    return Promise.resolve();
  }
}
