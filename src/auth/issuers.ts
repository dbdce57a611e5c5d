import type { AuthConfig } from '../config/config.js';
import { type KeySetFacts, type KeySetOptions, RemoteKeySet } from './key-set.js';

/**
 * The allow-list of issuers, each with its own key set. A token's `iss` selects a key set only by
 * exact match against the configured (normalised) issuer strings; nothing from a token ever becomes
 * a URL that is fetched. The number of key sets, and so of JWKS endpoints the API ever contacts,
 * is the number of configured issuers (at most MAX_ISSUERS), each with its own bounds.
 */

export interface TrustedIssuer {
  /** The exact `iss` value, with its trailing slash. */
  readonly issuer: string;
  readonly keySet: RemoteKeySet;
}

/** Key-set options for one issuer; `onFetch` gets the issuer so logs can name it. */
export type IssuerKeySetOptions = Partial<Omit<KeySetOptions, 'jwksUri' | 'algorithms' | 'onFetch'>> & {
  readonly onFetch?: (issuer: string, event: Parameters<NonNullable<KeySetOptions['onFetch']>>[0]) => void;
};

export class IssuerRegistry {
  /** Every trusted issuer, in configured order. */
  readonly all: readonly TrustedIssuer[];
  readonly #byIssuer: ReadonlyMap<string, TrustedIssuer>;

  constructor(issuers: readonly TrustedIssuer[]) {
    if (issuers.length === 0) throw new Error('at least one issuer is required');
    this.all = [...issuers];
    this.#byIssuer = new Map(issuers.map((trusted) => [trusted.issuer, trusted]));
  }

  /** One key set per configured issuer, built from configuration only. */
  static fromConfig(auth: AuthConfig, options: IssuerKeySetOptions = {}): IssuerRegistry {
    const { onFetch, ...timings } = options;
    return new IssuerRegistry(
      auth.issuers.map(({ issuer, jwksUri }) => ({
        issuer,
        keySet: new RemoteKeySet({
          ...timings,
          jwksUri,
          algorithms: auth.algorithms,
          ...(onFetch && { onFetch: (event) => { onFetch(issuer, event); } }),
        }),
      })),
    );
  }

  /** The trusted issuer whose `iss` is exactly `iss`; undefined for anything else, strings or not. */
  find(iss: unknown): TrustedIssuer | undefined {
    return typeof iss === 'string' ? this.#byIssuer.get(iss) : undefined;
  }

  /** Loads keys where none are usable, all issuers at once; resolves with those still without keys. */
  async warm(): Promise<string[]> {
    const ready = await Promise.all(this.all.map(({ keySet }) => keySet.warm()));
    return this.all.filter((_, index) => ready[index] !== true).map(({ issuer }) => issuer);
  }

  /** Read-only facts per issuer (when its keys were fetched, how many fetches), e.g. for metrics. */
  facts(): ReadonlyMap<string, KeySetFacts> {
    return new Map(this.all.map(({ issuer, keySet }) => [issuer, keySet.facts()]));
  }
}
