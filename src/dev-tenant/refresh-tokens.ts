import { createHash } from 'node:crypto';
import { ExpiringStore, randomToken } from './expiring-store.js';

/**
 * Refresh tokens with rotation and reuse detection, as Auth0 does them: every use returns a new
 * token and retires the old one; presenting a retired token again means it leaked, so the whole
 * family (every token descended from the same sign-in) is revoked. Only SHA-256 digests of the
 * tokens are kept.
 */

/** What a refresh token stands for. */
export interface RefreshGrant {
  readonly clientId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly authTime: number;
  readonly scope: readonly string[];
  readonly audience: string;
  /**
   * Thumbprint of the DPoP key the sign-in was bound to (RFC 9449 section 5: a public client's
   * refresh tokens are bound to its proof key); undefined for a sign-in without a proof.
   */
  readonly jkt?: string | undefined;
}

export type RefreshCheck =
  | { readonly ok: true; readonly grant: RefreshGrant }
  | { readonly ok: false; readonly reason: 'unknown' | 'reused' | 'wrong_client' | 'wrong_key' };

export type RefreshRotation =
  | { readonly ok: true; readonly grant: RefreshGrant; readonly refreshToken: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'reused' | 'wrong_client' | 'wrong_key' };

export interface RefreshTokenStoreOptions {
  /** Seconds a family lives from the sign-in, however often it rotates (default 2 592 000 = 30 days, Auth0's). */
  readonly lifetimeSeconds?: number;
  /** Tokens (current and retired) kept at once (default 10 000). */
  readonly maxEntries?: number;
}

interface Family {
  readonly id: string;
  /** `grant.jkt` once the family is bound: at the sign-in, or at its first refresh with a proof. */
  grant: RefreshGrant;
  readonly expiresAt: number;
  revoked: boolean;
}

interface TokenEntry {
  readonly family: Family;
  retired: boolean;
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

export class RefreshTokenStore {
  readonly #tokens: ExpiringStore<TokenEntry>;
  readonly #lifetimeSeconds: number;

  constructor(options: RefreshTokenStoreOptions = {}) {
    this.#lifetimeSeconds = options.lifetimeSeconds ?? 2_592_000;
    this.#tokens = new ExpiringStore(options.maxEntries ?? 10_000);
  }

  /** Starts a family for a new sign-in; returns its first token and the family id. */
  issue(grant: RefreshGrant, nowSeconds: number): { refreshToken: string; family: string } {
    const family: Family = { id: randomToken(), grant, expiresAt: nowSeconds + this.#lifetimeSeconds, revoked: false };
    return { refreshToken: this.#add(family), family: family.id };
  }

  /**
   * The checks of `rotate` without rotating: what a refresh would answer. A retired token revokes
   * its family here too. A token bound to a DPoP key needs `jkt`, the thumbprint of a valid proof
   * of that key; without it the token is refused and left as it was (the key holder can still use it).
   */
  check(refreshToken: string, clientId: string, nowSeconds: number, jkt?: string): RefreshCheck {
    const checked = this.#check(refreshToken, clientId, nowSeconds, jkt);
    return checked.ok ? { ok: true, grant: checked.entry.family.grant } : checked;
  }

  /**
   * Exchanges a current token for its successor after the checks of `check`. `bindTo` (the
   * thumbprint of the request's proof, for a public client) binds an unbound family from now on
   * (RFC 9449 section 5): the successor and every later token then need a proof of that key.
   */
  rotate(refreshToken: string, clientId: string, nowSeconds: number, jkt?: string, bindTo?: string): RefreshRotation {
    const checked = this.#check(refreshToken, clientId, nowSeconds, jkt);
    if (!checked.ok) return checked;
    const { entry } = checked;
    entry.retired = true;
    if (entry.family.grant.jkt === undefined && bindTo !== undefined) entry.family.grant = { ...entry.family.grant, jkt: bindTo };
    return { ok: true, grant: entry.family.grant, refreshToken: this.#add(entry.family) };
  }

  revokeFamily(familyId: string): void {
    this.#tokens.deleteWhere((entry) => {
      if (entry.family.id !== familyId) return false;
      entry.family.revoked = true;
      return true;
    });
  }

  /** Logout: every family started by that session. */
  revokeSession(sessionId: string): void {
    this.#tokens.deleteWhere((entry) => {
      if (entry.family.grant.sessionId !== sessionId) return false;
      entry.family.revoked = true;
      return true;
    });
  }

  #check(
    refreshToken: string,
    clientId: string,
    nowSeconds: number,
    jkt: string | undefined,
  ): { readonly ok: true; readonly entry: TokenEntry } | Extract<RefreshCheck, { ok: false }> {
    const entry = this.#tokens.get(digest(refreshToken), nowSeconds);
    if (entry === undefined || entry.family.revoked) return { ok: false, reason: 'unknown' };
    if (entry.family.grant.clientId !== clientId) return { ok: false, reason: 'wrong_client' };
    const boundTo = entry.family.grant.jkt;
    if (boundTo !== undefined && boundTo !== jkt) return { ok: false, reason: 'wrong_key' };
    if (entry.retired) {
      this.revokeFamily(entry.family.id);
      return { ok: false, reason: 'reused' };
    }
    return { ok: true, entry };
  }

  #add(family: Family): string {
    const token = randomToken();
    this.#tokens.set(digest(token), { family, retired: false }, family.expiresAt);
    return token;
  }
}
