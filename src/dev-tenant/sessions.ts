import { ExpiringStore, randomToken } from './expiring-store.js';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * Server-side state of the login page: sessions (who signed in on the tenant, behind a random
 * cookie) and login transactions (an /authorize request waiting for the user to pick a user).
 */

export const SESSION_COOKIE = 'dev_tenant_session';

export interface Session {
  readonly id: string;
  readonly userId: string;
  /** Seconds since the epoch: `auth_time` of the ID tokens this session yields. */
  readonly authTime: number;
}

export interface SessionStoreOptions {
  /** Seconds a session lasts (DevTenantConfig.sessionLifetimeSeconds). */
  readonly lifetimeSeconds: number;
  /** Sessions kept at once (default 10 000). */
  readonly maxEntries?: number;
}

export class SessionStore {
  readonly #sessions: ExpiringStore<Session>;
  readonly #lifetimeSeconds: number;

  constructor(options: SessionStoreOptions) {
    this.#lifetimeSeconds = options.lifetimeSeconds;
    this.#sessions = new ExpiringStore(options.maxEntries ?? 10_000);
  }

  get lifetimeSeconds(): number {
    return this.#lifetimeSeconds;
  }

  create(userId: string, nowSeconds: number): Session {
    const session: Session = { id: randomToken(), userId, authTime: nowSeconds };
    this.#sessions.set(session.id, session, nowSeconds + this.#lifetimeSeconds);
    return session;
  }

  get(id: string | undefined, nowSeconds: number): Session | undefined {
    return id === undefined ? undefined : this.#sessions.get(id, nowSeconds);
  }

  end(id: string): void {
    this.#sessions.delete(id);
  }
}

/** An /authorize request parked while the login page is shown; 10 min, as long as a login page stays useful. */
export class LoginTransactionStore {
  static readonly LIFETIME_SECONDS = 600;
  readonly #transactions = new ExpiringStore<AuthorizationRequest>(10_000);

  start(request: AuthorizationRequest, nowSeconds: number): string {
    const id = randomToken();
    this.#transactions.set(id, request, nowSeconds + LoginTransactionStore.LIFETIME_SECONDS);
    return id;
  }

  get(id: string | undefined, nowSeconds: number): AuthorizationRequest | undefined {
    return id === undefined ? undefined : this.#transactions.get(id, nowSeconds);
  }

  /** A transaction completes once; a second submit of the same page finds nothing. */
  finish(id: string): void {
    this.#transactions.delete(id);
  }
}
