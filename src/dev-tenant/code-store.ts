import { ExpiringStore, randomToken } from './expiring-store.js';

/**
 * Authorization codes: single-use, short-lived, bound to the client, `redirect_uri` and PKCE
 * challenge of the request that produced them. A redeemed code is remembered until it would
 * have expired, so a replay is told apart from an unknown code and can revoke what it issued.
 */

/** What a code stands for: the sign-in it completes. */
export interface CodeGrant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly authTime: number;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly nonce: string | undefined;
}

export type CodeRedemption =
  | { readonly ok: true; readonly grant: CodeGrant; readonly code: string }
  | { readonly ok: false; readonly reason: 'unknown' }
  /** Seen before: `refreshFamily` is what the first redemption issued, to revoke. */
  | { readonly ok: false; readonly reason: 'replayed'; readonly refreshFamily: string | undefined };

export interface CodeStoreOptions {
  /** Seconds a code may wait to be redeemed (default 60; Auth0 allows about as long). */
  readonly lifetimeSeconds?: number;
  /** Codes kept at once, issued and redeemed together (default 10 000). */
  readonly maxEntries?: number;
}

interface CodeEntry {
  readonly grant: CodeGrant;
  redeemed: boolean;
  refreshFamily: string | undefined;
}

export class AuthorizationCodeStore {
  readonly #codes: ExpiringStore<CodeEntry>;
  readonly #lifetimeSeconds: number;

  constructor(options: CodeStoreOptions = {}) {
    this.#lifetimeSeconds = options.lifetimeSeconds ?? 60;
    this.#codes = new ExpiringStore(options.maxEntries ?? 10_000);
  }

  issue(grant: CodeGrant, nowSeconds: number): string {
    const code = randomToken();
    this.#codes.set(code, { grant, redeemed: false, refreshFamily: undefined }, nowSeconds + this.#lifetimeSeconds);
    return code;
  }

  /**
   * Redeems `code` once. Any attempt uses it up, even one the caller then refuses (wrong verifier,
   * wrong client): whoever holds a stolen code gets a single try.
   */
  redeem(code: string, nowSeconds: number): CodeRedemption {
    const entry = this.#codes.get(code, nowSeconds);
    if (entry === undefined) return { ok: false, reason: 'unknown' };
    if (entry.redeemed) return { ok: false, reason: 'replayed', refreshFamily: entry.refreshFamily };
    entry.redeemed = true;
    return { ok: true, grant: entry.grant, code };
  }

  /** Records the refresh-token family a redemption issued, so a replay can revoke it. */
  recordRefreshFamily(code: string, family: string, nowSeconds: number): void {
    const entry = this.#codes.get(code, nowSeconds);
    if (entry !== undefined) entry.refreshFamily = family;
  }
}
