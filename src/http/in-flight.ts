import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The response Node's HTTP server is writing on `socket`, if any. Node keeps it in the socket's
 * `_httpMessage` until the response has finished, and offers no public accessor; read as `unknown` and narrowed, never cast.
 */
export function responseInProgress(socket: Socket): ServerResponse | undefined {
  const message: unknown = Reflect.get(socket, '_httpMessage');
  return message instanceof ServerResponse ? message : undefined;
}
