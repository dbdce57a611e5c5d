import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake tenant does with the next JWKS request. */
export type JwksBehaviour =
  | { readonly kind: 'json'; readonly body: unknown }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number; readonly body: unknown };

/**
 * A JWKS endpoint on 127.0.0.1 whose answers a test controls, to exercise the key set against
 * outages, slowness and junk. Counts requests so tests can check fetch bounds.
 */
export interface JwksServer {
  readonly url: string;
  readonly jwksUri: string;
  requests: number;
  behaviour: JwksBehaviour;
  close(): Promise<void>;
}

export async function startJwksServer(behaviour: JwksBehaviour): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>();
  const state = { requests: 0, behaviour };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    state.requests += 1;
    const current = state.behaviour;
    switch (current.kind) {
      case 'json':
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current.body));
        return;
      case 'raw':
        response.writeHead(current.status, { 'content-type': current.contentType ?? 'application/json' }).end(current.body);
        return;
      case 'hang':
        hanging.add(response);
        request.on('close', () => hanging.delete(response));
        return;
      case 'delay':
        setTimeout(() => {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current.body));
        }, current.ms);
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    get requests() { return state.requests; },
    set requests(value) { state.requests = value; },
    get behaviour() { return state.behaviour; },
    set behaviour(value) { state.behaviour = value; },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
