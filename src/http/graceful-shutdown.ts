import type { ServerResponse } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { responseInProgress } from './in-flight.js';

/** Longest wait for an event-loop turn without a new connection before the listener closes (ms). */
const QUIET_TURN_MAX_MS = 500;
/** ...but at least this many turns, and never longer than `QUIET_TURN_HARD_MAX_MS`. */
const QUIET_TURN_MIN_TURNS = 20;
const QUIET_TURN_HARD_MAX_MS = 2_000;
/** Longest wait for the listening port to refuse connections once closed (ms). */
const PORT_CLOSE_WAIT_MS = 1_000;

export interface GracefulShutdownOptions {
  /**
   * After the signal, how long requests are still served, each answered with `Connection: close`,
   * before the server stops accepting connections (ms; SHUTDOWN_DRAIN_SECONDS). A load balancer or
   * Kubernetes keeps sending for a few seconds after it is told the instance is going away.
   */
  readonly drainMs: number;
  /** Once closing, how often connections without a response in progress are closed (ms; default 100). */
  readonly sweepIntervalMs?: number;
  /**
   * Once closing, how long a connection that has received nothing yet may take to send its request
   * (ms; default 1 000). It was accepted, so its client is sending: it gets an answer, not a reset.
   */
  readonly firstRequestGraceMs?: number;
}

/**
 * Stops the API without resetting a request that reached it:
 * 1. at once: `draining` turns true (/readyz answers 503) and every response, including those in
 *    progress whose headers are not sent yet, carries `Connection: close`, so keep-alive clients
 *    finish their request and reconnect elsewhere instead of writing to a socket about to close;
 * 2. for `drainMs`: requests are still accepted and served;
 * 3. then the server stops accepting, right after an event-loop turn that accepted nothing (a
 *    connection left in the kernel's accept queue when the listener closes is reset); connections with no response in progress that have received
 *    bytes (idle keep-alive, or a request still arriving from a slow client) are closed, again every
 *    `sweepIntervalMs`, because `server.close()` also stops Node's request-timeout sweep and a
 *    half-sent request would otherwise hold the process. A connection that has received nothing yet
 *    was accepted a moment ago and its request is on the way: it gets `firstRequestGraceMs` to
 *    arrive and is answered (closing it would reset the client: unread bytes make the kernel send
 *    RST). `run()` resolves when the last response has been sent.
 * Costs nothing per request until the signal: one Set entry per connection.
 */
export class GracefulShutdown {
  readonly #drainMs: number;
  readonly #sweepIntervalMs: number;
  readonly #firstRequestGraceMs: number;
  readonly #sockets = new Set<Socket>();
  #app: FastifyInstance | undefined;
  #draining = false;
  #accepted = 0;
  /** Responses finished since the signal: each may bring its client back on a new connection. */
  #answered = 0;
  #holding = false;
  #quiet = true;
  readonly #held = new Set<Socket>();

  constructor(options: GracefulShutdownOptions) {
    this.#drainMs = options.drainMs;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 100;
    this.#firstRequestGraceMs = options.firstRequestGraceMs ?? 1_000;
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
      this.#accepted += 1;
      if (this.#holding) this.#hold(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // Fastify closes the listener right after its preClose hooks: waiting here leaves no gap
    // between the quiet turn and the close.
    app.addHook('preClose', async () => {
      if (this.#holding) this.#quiet = await this.#quietTurn();
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
      response.once('finish', () => { this.#answered += 1; });
    });
    for (const socket of this.#sockets) {
      const response = responseInProgress(socket);
      if (response !== undefined && !response.headersSent) response.setHeader('connection', 'close');
    }
    if (this.#drainMs > 0) await sleep(this.#drainMs);

    // Node >= 19's server.close() first calls closeIdleConnections(), which counts a connection
    // accepted a moment ago, its request not yet read, as idle and destroys it: those were the
    // resets clients saw at the end of the drain (issue 15). The sweep below decides instead.
    app.server.closeIdleConnections = () => undefined;
    // Until the listener closes, new connections are accepted but their requests are not read yet:
    // a client that opens a connection per request waits for that answer instead of opening the
    // next connection, so the accept queue empties and a turn without a new connection comes.
    this.#holding = true;
    for (const socket of this.#sockets) {
      if (socket.bytesRead === 0 && responseInProgress(socket) === undefined) this.#hold(socket);
    }
    const address = app.server.address();
    const closed = app.close(); // the preClose hook waits for the quiet turn
    // With node:cluster the socket is shared and the primary closes it after the last worker:
    // answering the held clients before the port refuses would bring them back into a queue about
    // to be reset.
    if (typeof address === 'object' && address !== null) await untilRefused(address);
    if (!this.#quiet) app.log.warn('shutdown: connections kept arriving; those still in the accept queue may be reset');
    this.#holding = false;
    for (const socket of this.#held) setReading(socket, true);
    this.#held.clear();
    const graceEndsAt = Date.now() + this.#firstRequestGraceMs;
    const sweep = setInterval(() => { this.#closeConnectionsWithoutResponse(graceEndsAt); }, this.#sweepIntervalMs);
    this.#closeConnectionsWithoutResponse(graceEndsAt);
    try {
      await closed;
    } finally {
      clearInterval(sweep);
    }
  }

  /**
   * Waits for an event-loop turn whose poll phase accepted no connection and finished no response
   * (an answered client may be reconnecting), for at most
   * `QUIET_TURN_MAX_MS`: closing the listener resets every connection still in the kernel's accept
   * queue, so it closes right after a turn that found that queue empty.
   */
  async #quietTurn(): Promise<boolean> {
    const started = Date.now();
    // Turns as well as time: on a starved CPU one turn can outlast the whole wait.
    for (let turn = 0; turn < QUIET_TURN_MIN_TURNS || Date.now() - started < QUIET_TURN_MAX_MS; turn += 1) {
      const seen = this.#accepted + this.#answered;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#accepted + this.#answered === seen) return true;
      if (Date.now() - started >= QUIET_TURN_HARD_MAX_MS) break;
    }
    return false;
  }

  #hold(socket: Socket): void {
    if (setReading(socket, false)) this.#held.add(socket);
  }

  #closeConnectionsWithoutResponse(graceEndsAt: number): void {
    for (const socket of this.#sockets) {
      if (responseInProgress(socket) !== undefined || socket.writableEnded) continue; // answering, or closing already
      if (socket.bytesRead === 0 && Date.now() < graceEndsAt) continue; // its request is on the way
      if (socket.bytesRead === 0) this.#app?.log.warn('shutdown: closing a connection that sent no request in time');
      socket.destroy();
    }
  }
}


/**
 * Stops or restarts reading a socket at the libuv handle. `socket.pause()` does not stop Node's HTTP
 * parser, which reads the handle directly; the handle has no public accessor, so it is read as
 * `unknown` and its methods checked. False if the handle offers no such method.
 */
function setReading(socket: Socket, on: boolean): boolean {
  const handle: unknown = Reflect.get(socket, '_handle');
  if (typeof handle !== 'object' || handle === null) return false;
  const method: unknown = Reflect.get(handle, on ? 'readStart' : 'readStop');
  if (typeof method !== 'function') return false;
  method.call(handle);
  return true;
}

/** Resolves once `address` refuses connections (or after `PORT_CLOSE_WAIT_MS`); probes every 5 ms. */
async function untilRefused(address: AddressInfo): Promise<void> {
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const giveUpAt = Date.now() + PORT_CLOSE_WAIT_MS;
  while (Date.now() < giveUpAt) {
    const open = await new Promise<boolean>((resolve) => {
      const probe = connect({ host, port: address.port });
      probe.once('connect', () => { probe.destroy(); resolve(true); });
      probe.once('error', () => { resolve(false); }); // refused, or unreachable: stop waiting either way
    });
    if (!open) return;
    await sleep(5);
  }
}
