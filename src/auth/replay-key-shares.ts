/**
 * How many live entries each proof key (jkt) holds in the memory replay store, so one key cannot
 * fill it and lock every other DPoP client out (issue 16 W2). Each key's expiries are kept in
 * order; an expired one stops counting the moment it expires, as its store entry does.
 */
export class ReplayKeyShares {
  /** Per jkt, the expiry (ms since the epoch) of each of its entries, earliest first. */
  readonly #expiries = new Map<string, number[]>();
  readonly #maxPerKey: number;
  readonly #sweepAbove: number;
  #total = 0;

  /**
   * @param maxPerKey live entries one key may hold (DPOP_REPLAY_MAX_PER_KEY).
   * @param sweepAbove when more expiries than this are kept (the store's bound: only lapsed ones
   *   can be beyond it), every key's lapsed ones are dropped, so this map stays bounded too.
   */
  constructor(maxPerKey: number, sweepAbove: number) {
    this.#maxPerKey = maxPerKey;
    this.#sweepAbove = sweepAbove;
  }

  /** 0 when `jkt` may record one more entry now; else the ms until its earliest entry lapses. */
  waitMs(jkt: string, now: number): number {
    const expiries = this.#live(jkt, now);
    if (expiries === undefined || expiries.length < this.#maxPerKey) return 0;
    return Math.max(1, (expiries[0] ?? now) - now);
  }

  add(jkt: string, expiresAt: number, now: number): void {
    let expiries = this.#expiries.get(jkt);
    if (expiries === undefined) {
      expiries = [];
      this.#expiries.set(jkt, expiries);
    }
    // Proofs mostly arrive in iat order, so this is nearly always an append.
    let at = expiries.length;
    while (at > 0 && (expiries[at - 1] ?? 0) > expiresAt) at -= 1;
    expiries.splice(at, 0, expiresAt);
    this.#total += 1;
    if (this.#total > this.#sweepAbove) this.sweep(now);
  }

  /** Drops every lapsed expiry, and keys left with none. */
  sweep(now: number): void {
    for (const jkt of [...this.#expiries.keys()]) this.#live(jkt, now);
  }

  clear(): void {
    this.#expiries.clear();
    this.#total = 0;
  }

  /** The key's expiries still in the future (lapsed ones dropped), or undefined if none. */
  #live(jkt: string, now: number): number[] | undefined {
    const expiries = this.#expiries.get(jkt);
    if (expiries === undefined) return undefined;
    let lapsed = 0;
    while (lapsed < expiries.length && (expiries[lapsed] ?? 0) <= now) lapsed += 1;
    if (lapsed > 0) {
      expiries.splice(0, lapsed);
      this.#total -= lapsed;
    }
    if (expiries.length > 0) return expiries;
    this.#expiries.delete(jkt);
    return undefined;
  }
}
