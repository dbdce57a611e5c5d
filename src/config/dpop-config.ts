import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { integer, optionalString, originProblem } from './env-rules.js';

/**
 * The DPoP variables (RFC 9449, src/auth/authenticate.ts): their rules, defaults and the config they
 * build. `src/config/config.ts` validates them beside the API's own variables.
 */

export const DPOP_MODES = ['allowed', 'required', 'disabled'] as const;
export type DpopMode = (typeof DPOP_MODES)[number];

export interface DpopConfig {
  /** DPOP: allowed (default: Bearer for unbound tokens, DPoP for bound ones), required, disabled. */
  readonly mode: DpopMode;
  /** Origins a proof's `htu` may name (API_ORIGIN); by default http://localhost|127.0.0.1|[::1]:PORT. */
  readonly origins: readonly string[];
  /** False when `origins` is that loopback default: behind a proxy or a domain, every proof then fails on htu. */
  readonly originsConfigured: boolean;
  /** HMAC key for server nonces (DPOP_NONCE=required); null: no nonces. */
  readonly nonceSecret: string | null;
  /** Shared replay store (REDIS_URL); null: in memory, this process only. */
  readonly redisUrl: string | null;
  /** Bound of the in-memory replay store, in proofs (DPOP_REPLAY_MAX_ENTRIES, default 200 000). */
  readonly replayMaxEntries: number;
  /**
   * Live proofs one key (jkt) may hold in either replay store (DPOP_REPLAY_MAX_PER_KEY, default half
   * of DPOP_REPLAY_MAX_ENTRIES: 100 000), so one key never holds the whole store.
   */
  readonly replayMaxPerKey: number;
}

/**
 * By default a key's share is half of DPOP_REPLAY_MAX_ENTRIES: one key never takes more than half,
 * so the other half is always there for everyone else, while one busy client (a backend, a load
 * test) still gets 100 000 live proofs by default, about 1 400 a second sustained. (A share of 1 %
 * refused such a client with 429 after 2 000 proofs in 70 s: 28 a second.)
 */
const REPLAY_KEYS_PER_STORE = 2;

/** API_ORIGIN: one or more origins (comma-separated) the clients call, e.g. https://api.example.com. */
const apiOrigins = optionalString.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const origins: string[] = [];
  for (const entry of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const result = /[?#]$/.test(entry) ? { problem: '' } : originProblem(entry);
    if ('problem' in result) {
      ctx.addIssue({
        code: 'custom',
        message: `must be origins like https://api.example.com (scheme, host, optional port; no path), got ${JSON.stringify(entry)}`,
      });
      return z.NEVER;
    }
    origins.push(result.origin);
  }
  return origins.length === 0 ? undefined : origins;
});

const redisUrl = optionalString.refine((value) => {
  if (value === undefined) return true;
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}, { error: 'must be a URL like redis://127.0.0.1:6379 or rediss://user:password@host:6380/0' });

function oneOf<T extends string>(values: readonly T[], fallback: T) {
  return optionalString.transform((value, ctx): T => {
    const chosen = (value ?? fallback).toLowerCase();
    const found = values.find((candidate) => candidate === chosen);
    if (found === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got ${JSON.stringify(value ?? '')}` });
      return z.NEVER;
    }
    return found;
  });
}

export const DpopEnvSchema = z.object({
  DPOP: oneOf(DPOP_MODES, 'allowed'),
  DPOP_NONCE: oneOf(['off', 'required'] as const, 'off'),
  DPOP_NONCE_SECRET: optionalString.refine((value) => value === undefined || value.length >= 32, {
    error: 'must be at least 32 characters (e.g. openssl rand -base64 32), the same on every replica',
  }),
  DPOP_REPLAY_MAX_ENTRIES: integer(1000, 10_000_000, 200_000),
  DPOP_REPLAY_MAX_PER_KEY: integer(1, 10_000_000, null),
  API_ORIGIN: apiOrigins,
  REDIS_URL: redisUrl,
});
export type DpopEnv = z.infer<typeof DpopEnvSchema>;

/** The DPoP settings and the rules that tie them to the API's PORT and WEB_CONCURRENCY. Throws ConfigError. */
export function dpopConfigFrom(vars: DpopEnv, api: { readonly port: number; readonly workers: number }): DpopConfig {
  const mode = vars.DPOP;
  if (vars.DPOP_NONCE === 'required' && vars.DPOP_NONCE_SECRET === undefined) {
    throw new ConfigError('Invalid configuration: DPOP_NONCE=required needs DPOP_NONCE_SECRET (at least 32 characters, the same on every replica)');
  }
  // Replay protection in one worker only would let a proof be replayed to the others: refuse.
  if (api.workers > 1 && mode !== 'disabled' && vars.REDIS_URL === undefined) {
    throw new ConfigError(
      `Invalid configuration: WEB_CONCURRENCY=${String(api.workers)} with DPOP=${mode} needs REDIS_URL ` +
        '(a replay store shared by the workers), or set DPOP=disabled',
    );
  }
  // One key alone must not be able to fill the store and lock every other DPoP client out.
  const replayMaxPerKey = vars.DPOP_REPLAY_MAX_PER_KEY ?? Math.max(1, Math.floor(vars.DPOP_REPLAY_MAX_ENTRIES / REPLAY_KEYS_PER_STORE));
  if (replayMaxPerKey >= vars.DPOP_REPLAY_MAX_ENTRIES) {
    throw new ConfigError(
      `Invalid configuration: DPOP_REPLAY_MAX_PER_KEY=${String(replayMaxPerKey)} must be less than DPOP_REPLAY_MAX_ENTRIES=${String(vars.DPOP_REPLAY_MAX_ENTRIES)} ` +
        '(one key would fill the replay store)',
    );
  }
  const port = String(api.port);
  return {
    mode,
    origins: vars.API_ORIGIN ?? [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`],
    originsConfigured: vars.API_ORIGIN !== undefined,
    nonceSecret: vars.DPOP_NONCE === 'required' ? (vars.DPOP_NONCE_SECRET ?? null) : null,
    redisUrl: vars.REDIS_URL ?? null,
    replayMaxEntries: vars.DPOP_REPLAY_MAX_ENTRIES,
    replayMaxPerKey,
  };
}
