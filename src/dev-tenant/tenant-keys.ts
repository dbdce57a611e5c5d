import { stat } from 'node:fs/promises';
import {
  isWithinGrace,
  loadOrCreateSigningKeys,
  type PublicSigningJwk,
  type SigningKeys,
  signingKeysFilePath,
} from './signing-keys.js';

/** The running tenant's view of its keys file: what it signs with and what it publishes. */

export interface TenantKeys {
  /** The keys, re-read when the rotate command replaced the file. */
  load(): Promise<SigningKeys>;
  /** The current key and retired keys still in grace: the JWKS, and what /userinfo accepts. */
  published(now: Date): Promise<PublicSigningJwk[]>;
}

/**
 * Re-reads the keys file when the rotate command replaced it (new inode or mtime). One stat per
 * request is cheap and needs no file watcher.
 */
export function tenantKeys(keysDir: string, graceSeconds: number): TenantKeys {
  const path = signingKeysFilePath(keysDir);
  let cached: { readonly stamp: string; readonly keys: Promise<SigningKeys> } | undefined;
  const load = async (): Promise<SigningKeys> => {
    const stamp = await stat(path).then(
      (stats) => `${String(stats.ino)}:${String(stats.mtimeMs)}:${String(stats.size)}`,
      () => 'missing',
    );
    if (cached?.stamp !== stamp) {
      cached = { stamp, keys: loadOrCreateSigningKeys(keysDir, new Date(), graceSeconds) };
    }
    return cached.keys;
  };
  return {
    load,
    async published(now) {
      const { all } = await load();
      return all.filter((key) => isWithinGrace(key.retiredAt, now, graceSeconds)).map((key) => key.publicJwk);
    },
  };
}
