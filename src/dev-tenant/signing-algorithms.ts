import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthError } from './oauth-params.js';
import {
  type DevSigningAlgorithm,
  isWithinGrace,
  loadOrCreateSigningKeys,
  type PublicSigningJwk,
  SIGNING_ALG,
  type SigningKey,
  type SigningKeys,
  signingKeysFilePath,
} from './signing-keys.js';

/**
 * The dev tenant's keys for each algorithm it signs with: RS256 always (Auth0's default), PS256
 * too when AUTH0_SIGNING_ALGS lists it. Each algorithm has its own key, published with its `alg`
 * so it verifies that algorithm only. A client picks one with the `signing_alg` token request
 * parameter: a dev-tenant convenience, NOT an Auth0 parameter (Auth0 signs with the algorithm set
 * on the API in its dashboard).
 */

/** The dev-only /oauth/token body parameter naming the algorithm to sign with. */
export const SIGNING_ALG_PARAMETER = 'signing_alg';

export interface TenantSigningKeys {
  /** The algorithms this tenant can sign with, RS256 first. */
  readonly algorithms: readonly DevSigningAlgorithm[];
  /** Every key to publish at `now`: current and retired within `graceSeconds`, all algorithms. */
  published(now: Date): Promise<PublicSigningJwk[]>;
  /** The key that signs `alg` tokens now. */
  current(alg: DevSigningAlgorithm): Promise<SigningKey>;
}

/** Where the keys of `alg` are kept: RS256 in the keys folder itself (as always), others in a subfolder. */
export function keysDirFor(keysDir: string, alg: DevSigningAlgorithm): string {
  return alg === SIGNING_ALG ? keysDir : join(keysDir, alg.toLowerCase());
}

/**
 * Returns the keys, re-reading the file when the rotate command replaced it (new inode or
 * mtime). One stat per request is cheap and needs no file watcher.
 */
function signingKeysSource(keysDir: string, graceSeconds: number, alg: DevSigningAlgorithm): () => Promise<SigningKeys> {
  const path = signingKeysFilePath(keysDir);
  let cached: { readonly stamp: string; readonly keys: Promise<SigningKeys> } | undefined;
  return async () => {
    const stamp = await stat(path).then(
      (stats) => `${String(stats.ino)}:${String(stats.mtimeMs)}:${String(stats.size)}`,
      () => 'missing',
    );
    if (cached?.stamp !== stamp) {
      cached = { stamp, keys: loadOrCreateSigningKeys(keysDir, new Date(), graceSeconds, alg) };
    }
    return cached.keys;
  };
}

/** Loads (or creates) the keys of every algorithm now, so a broken keys file fails at start. */
export async function loadTenantSigningKeys(
  keysDir: string,
  graceSeconds: number,
  requested: readonly DevSigningAlgorithm[],
): Promise<TenantSigningKeys> {
  const algorithms: DevSigningAlgorithm[] = [SIGNING_ALG, ...requested.filter((alg) => alg !== SIGNING_ALG)];
  const sources = new Map(algorithms.map((alg) => [alg, signingKeysSource(keysDirFor(keysDir, alg), graceSeconds, alg)]));
  await Promise.all([...sources.values()].map((source) => source()));
  const source = (alg: DevSigningAlgorithm) => {
    const found = sources.get(alg);
    if (found === undefined) throw new Error(`this dev tenant has no ${alg} key`);
    return found();
  };
  return {
    algorithms,
    async published(now) {
      const all = await Promise.all(algorithms.map(async (alg) => (await source(alg)).all));
      return all.flat().filter((key) => isWithinGrace(key.retiredAt, now, graceSeconds)).map((key) => key.publicJwk);
    },
    async current(alg) {
      return (await source(alg)).current;
    },
  };
}

export type SigningAlgChoice =
  | { readonly ok: true; readonly alg: DevSigningAlgorithm }
  | { readonly ok: false; readonly error: OAuthError };

/** The algorithm a token request asks for (`signing_alg`, default RS256), if this tenant signs with it. */
export function requestedSigningAlg(body: unknown, available: readonly DevSigningAlgorithm[]): SigningAlgChoice {
  const value: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, SIGNING_ALG_PARAMETER) : undefined;
  if (value === undefined || value === '') return { ok: true, alg: SIGNING_ALG };
  const alg = available.find((candidate) => candidate === value);
  if (alg !== undefined) return { ok: true, alg };
  const hint = value === 'PS256' ? ' (start the API with AUTH0_SIGNING_ALGS=RS256,PS256)' : '';
  return {
    ok: false,
    error: {
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: `${SIGNING_ALG_PARAMETER} (a dev tenant parameter, not Auth0's) must be one of ${available.join(', ')}${hint}`,
      },
    },
  };
}
