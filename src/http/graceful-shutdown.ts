import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { responseInProgress } from './in-flight.js';

export interface GracefulShutdownOptions {
  /**
   * After the signal, how long requests are still served, each answered with `Connection: close`,
   * before the server stops accepting connections (ms; SHUTDOWN_DRAIN_SECONDS). A load balancer or
   * Kubernetes keeps sending for a few seconds after it is told the instance is going away.
   */
  readonly drainMs: number;
  /** Once closing, how often connections without a response in progress are closed (ms; default 100). */
  readonly sweepIntervalMs?: number;
}

/**
 * Stops the API without resetting a request that reached it:
 * 1. at once: `draining` turns true (/readyz answers 503) and every response, including those in
 *    progress whose headers are not sent yet, carries `Connection: close`, so keep-alive clients
 *    finish their request and reconnect elsewhere instead of writing to a socket about to close;
 * 2. for `drainMs`: requests are still accepted and served;
 * 3. then the server closes; connections with no response in progress (idle keep-alive, or a request
 *    still arriving from a slow client) are closed, again every `sweepIntervalMs`, because
 *    `server.close()` also stops Node's request-timeout sweep and a half-sent request would otherwise
 *    hold the process; `run()` resolves when the last response has been sent.
 * Costs nothing per request until the signal: one Set entry per connection.
 */
export class GracefulShutdown {
  readonly #drainMs: number;
  readonly #sweepIntervalMs: number;
  readonly #sockets = new Set<Socket>();
  #app: FastifyInstance | undefined;
  #draining = false;

  constructor(options: GracefulShutdownOptions) {
    this.#drainMs = options.drainMs;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 100;
  }

  /** True from the signal on: /readyz answers 503. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Called by buildApp: remembers the server's connections. */
  attach(app: FastifyInstance): void {
    this.#app = app;
    app.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Drains, then closes the app; resolves once every response is sent. Rejects as `app.close()` does. */
  async run(): Promise<void> {
    const app = this.#app;
    if (app === undefined || this.#draining) return;
    this.#draining = true;
    // Added only now, so requests before the signal pay nothing for it.
    app.server.prependListener('request', (_request, response: ServerResponse) => {
      response.setHeader('connection', 'close');
    });
    for (const socket of this.#sockets) {
      const response = responseInProgress(socket);
      if (response !== undefined && !response.headersSent) response.setHeader('connection', 'close');
    }
    if (this.#drainMs > 0) await sleep(this.#drainMs);

    const closed = app.close();
    const sweep = setInterval(() => { this.#closeConnectionsWithoutResponse(); }, this.#sweepIntervalMs);
    this.#closeConnectionsWithoutResponse();
    try {
      await closed;
    } finally {
      clearInterval(sweep);
    }
  }

  #closeConnectionsWithoutResponse(): void {
    for (const socket of this.#sockets) {
      if (responseInProgress(socket) === undefined) socket.destroy();
    }
  }
}
