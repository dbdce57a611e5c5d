import { Redis, type Result } from 'ioredis';
import { DpopKeyShareFullError, ReplayStoreUnavailableError } from '../errors/http-errors.js';
import { PROOF_CLOCK_SKEW_SECONDS } from './dpop-proof.js';
import { type ProofSource, type ReplayStore, refusalBeforeMemory } from './replay-store.js';

/** Connection attempt bound: a Redis that does not answer the TCP handshake in 1 s counts as down. */
const CONNECT_TIMEOUT_MS = 1_000;
/** Command bound: a SET that takes longer answers 503 rather than hold the request. */
const COMMAND_TIMEOUT_MS = 500;
/** Reconnect forever, waiting 100 ms more each attempt, at most 2 s apart. */
const MAX_RECONNECT_DELAY_MS = 2_000;

const KEY_PREFIX = 'dpop:jti:';
/** Per proof key, its live entries scored by expiry: its share of the store. */
const SHARE_PREFIX = 'dpop:jkt:';
/**
 * When this Redis started remembering (ms since the epoch, no TTL). Written by the first proof
 * that finds it missing: after a restart without persistence, a FLUSHALL, or an operator's DEL.
 */
export const START_KEY = 'dpop:since';

/**
 * A proof whose `iat` is before the start plus this is refused. Twice the skew: a proof accepted
 * before the restart had `iat` at most 5 s after its process's clock, and the process that wrote
 * the start may run up to 5 s behind that one (the same bound as the entries' TTL).
 */
export const REDIS_START_MARGIN_MS = 2 * PROOF_CLOCK_SKEW_SECONDS * 1000;

/**
 * One proof, atomically: notice a store that lost its memory, refuse a replay, keep the key to its
 * share, then record. KEYS: entry, the key's share, the start. ARGV: now, expiresAt, issuedAt (ms),
 * start margin (ms), max per key. Replies [verdict, ms]: the start for `before_start`, the wait
 * for `share_full`. The entry is the same `SET dpop:jti:<hash>` as before this script, so processes
 * of either version refuse each other's replays during a rolling update.
 */
const REMEMBER_SCRIPT = `
local now = tonumber(ARGV[1])
local expiresAt = tonumber(ARGV[2])
local started = tonumber(redis.call('GET', KEYS[3]))
if not started then
  started = now
  redis.call('SET', KEYS[3], ARGV[1])
end
if tonumber(ARGV[3]) < started + tonumber(ARGV[4]) then return {'before_start', started} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'replay', 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  local earliest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'share_full', tonumber(earliest[2]) - now}
end
local ttl = math.max(1, expiresAt - now)
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('ZADD', KEYS[2], expiresAt, KEYS[1])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'ok', 0}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    dpopRemember(entry: string, share: string, start: string, ...args: string[]): Result<unknown, Context>;
  }
}

export interface RedisStoreEvents {
  /** Connection state changes, for the log: once per change, not once per failed attempt. */
  onState?(state: 'ready' | 'down', error?: Error): void;
}

export interface RedisReplayStoreOptions extends RedisStoreEvents {
  /** Live proofs one key may hold (DPOP_REPLAY_MAX_PER_KEY). */
  readonly maxPerKey: number;
}

/**
 * The replay store shared by every process and replica (REDIS_URL). One atomic script per proof
 * (REMEMBER_SCRIPT): only the first process to record a proof gets it through.
 *
 * Fails fast: no offline queue and no retried commands, so while Redis is unreachable each DPoP
 * request gets 503 at once (never a pass without the check), and the client keeps reconnecting in
 * the background. Redis errors are events, so they never crash the process.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: Redis;
  readonly #maxPerKey: string;
  #down = false;

  constructor(url: string, events: RedisReplayStoreOptions) {
    this.#maxPerKey = String(events.maxPerKey);
    this.#redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      // Names the connection in CLIENT LIST, for whoever runs the Redis.
      connectionName: 'hello-world-api-dpop-replay',
    });
    // EVALSHA, falling back to EVAL when a restarted Redis no longer holds the script.
    this.#redis.defineCommand('dpopRemember', { numberOfKeys: 3, lua: REMEMBER_SCRIPT });
    this.#redis.on('error', (error: Error) => {
      if (this.#down) return;
      this.#down = true;
      events.onState?.('down', error);
    });
    this.#redis.on('ready', () => {
      this.#down = false;
      events.onState?.('ready');
      // Start the clock of a Redis that has none (first use, or restarted empty) on connecting
      // rather than at the first proof: the margin after it then often passes before any proof
      // comes. Safe: a connection is made after the restart it follows. The script still writes
      // it when missing (FLUSHALL without a reconnect).
      this.#redis.set(START_KEY, String(Date.now()), 'NX').catch(() => { /* the script writes it then */ });
    });
  }

  async remember(key: string, expiresAt: number, now: number, source?: ProofSource): Promise<boolean> {
    if (source === undefined) return this.#rememberEntry(key, expiresAt, now);
    let reply: unknown;
    try {
      reply = await this.#redis.dpopRemember(
        `${KEY_PREFIX}${key}`, `${SHARE_PREFIX}${source.jkt}`, START_KEY,
        String(Math.floor(now)), String(Math.ceil(expiresAt)), String(source.issuedAt), String(REDIS_START_MARGIN_MS), this.#maxPerKey,
      );
    } catch (error) {
      throw new ReplayStoreUnavailableError({ cause: error });
    }
    const [verdict, ms] = replyParts(reply);
    if (verdict === 'ok') return true;
    if (verdict === 'replay') return false;
    if (verdict === 'before_start' && typeof ms === 'number') {
      throw refusalBeforeMemory(source.issuedAt, ms, REDIS_START_MARGIN_MS, now) ?? new ReplayStoreUnavailableError();
    }
    if (verdict === 'share_full' && typeof ms === 'number') throw new DpopKeyShareFullError(ms / 1000);
    throw new ReplayStoreUnavailableError({ cause: new Error(`unexpected reply from Redis: ${JSON.stringify(reply)}`) });
  }

  /** The entry alone, for callers without a ProofSource: one `SET key 1 NX PX ttl`. */
  async #rememberEntry(key: string, expiresAt: number, now: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(expiresAt - now));
    let reply: string | null;
    try {
      reply = await this.#redis.set(`${KEY_PREFIX}${key}`, '1', 'PX', ttl, 'NX');
    } catch (error) {
      throw new ReplayStoreUnavailableError({ cause: error });
    }
    return reply === 'OK';
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}

/** The script's `{verdict, ms}` reply, read as unknown values. */
function replyParts(reply: unknown): readonly [unknown, unknown] {
  if (!Array.isArray(reply)) return [undefined, undefined];
  const parts: readonly unknown[] = reply;
  return [parts[0], parts[1]];
}
