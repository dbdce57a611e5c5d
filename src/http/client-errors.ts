import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';
import { responseInProgress } from './in-flight.js';
import { SECURITY_HEADERS } from './security-headers.js';

// Written once: the same security headers as every other response, as raw header lines.
const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/**
 * Answers what Node's HTTP parser refuses before Fastify ever sees a request: headers over
 * `maxHeaderSize` (16 KiB by default) -> 431, a request not received within `requestTimeout`
 * -> 408, anything else malformed (bad request line or header, Content-Length with
 * Transfer-Encoding...) -> 400. The body is `{"message": "<reason phrase>"}` like every other
 * error of the API (Fastify's default adds `error` and `statusCode`); the connection is closed.
 * Bound to the Fastify instance by Fastify (`clientErrorHandler` option).
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection is gone: nothing to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  this.log.info({ code: error.code, status }, 'client error');
  // A response already under way on this socket cannot be replaced by another one.
  if (socket.writable && responseInProgress(socket)?.headersSent !== true) {
    const reason = STATUS_CODES[status] ?? 'Bad Request';
    const body = JSON.stringify({ message: reason });
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        SECURITY_HEADER_LINES +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
