import { Redis } from 'ioredis';
import { ReplayStoreUnavailableError } from '../errors/http-errors.js';
import type { ReplayStore } from './replay-store.js';

/** Connection attempt bound: a Redis that does not answer the TCP handshake in 1 s counts as down. */
const CONNECT_TIMEOUT_MS = 1_000;
/** Command bound: a SET that takes longer answers 503 rather than hold the request. */
const COMMAND_TIMEOUT_MS = 500;
/** Reconnect forever, waiting 100 ms more each attempt, at most 2 s apart. */
const MAX_RECONNECT_DELAY_MS = 2_000;

const KEY_PREFIX = 'dpop:jti:';

export interface RedisStoreEvents {
  /** Connection state changes, for the log: once per change, not once per failed attempt. */
  onState?(state: 'ready' | 'down', error?: Error): void;
}

/**
 * The replay store shared by every process and replica (REDIS_URL). One atomic
 * `SET key 1 NX PX ttl` per proof: only the first process to record a proof gets OK.
 *
 * Fails fast: no offline queue and no retried commands, so while Redis is unreachable each DPoP
 * request gets 503 at once (never a pass without the check), and the client keeps reconnecting in
 * the background. Redis errors are events, so they never crash the process.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: Redis;
  #down = false;

  constructor(url: string, events: RedisStoreEvents = {}) {
    this.#redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      // Names the connection in CLIENT LIST, for whoever runs the Redis.
      connectionName: 'hello-world-api-dpop-replay',
    });
    this.#redis.on('error', (error: Error) => {
      if (this.#down) return;
      this.#down = true;
      events.onState?.('down', error);
    });
    this.#redis.on('ready', () => {
      this.#down = false;
      events.onState?.('ready');
    });
  }

  async remember(key: string, expiresAt: number, now: number): Promise<boolean> {
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
