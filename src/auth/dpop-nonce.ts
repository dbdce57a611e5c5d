import { createHmac } from 'node:crypto';
import { UseDpopNonceError } from '../errors/http-errors.js';

/** How long one nonce is current; the previous one is still taken, so a nonce lives 60 to 120 s. */
export const NONCE_STEP_SECONDS = 60;

/**
 * Stateless server nonces (RFC 9449 section 8): the nonce of a time step is
 * base64url(HMAC-SHA256(secret, "dpop-nonce:" + step)). Every replica with the same secret issues
 * and accepts the same nonces, without shared state; a client cannot make one for a future step,
 * so proofs cannot be made ahead of time.
 */
export class DpopNonces {
  readonly #secret: string;
  readonly #now: () => number;
  #step = Number.NaN;
  #current = '';
  #previous = '';

  /** @param now milliseconds since the epoch (injected for tests). */
  constructor(secret: string, now: () => number = Date.now) {
    this.#secret = secret;
    this.#now = now;
  }

  /** The nonce to hand out now (in DPoP-Nonce). */
  current(): string {
    this.#advance();
    return this.#current;
  }

  /** Throws UseDpopNonceError (with the current nonce) unless `nonce` is the current or the previous one. */
  check(nonce: unknown): void {
    this.#advance();
    if (nonce === this.#current || nonce === this.#previous) return;
    throw new UseDpopNonceError(this.#current, nonce === undefined ? 'missing' : 'stale');
  }

  #advance(): void {
    const step = Math.floor(this.#now() / 1000 / NONCE_STEP_SECONDS);
    if (step === this.#step) return;
    this.#current = this.#nonceFor(step);
    this.#previous = this.#nonceFor(step - 1);
    this.#step = step;
  }

  #nonceFor(step: number): string {
    return createHmac('sha256', this.#secret).update(`dpop-nonce:${String(step)}`).digest('base64url');
  }
}
