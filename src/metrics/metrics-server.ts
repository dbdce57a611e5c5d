import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  /** The metrics in the Prometheus text format; a rejection answers 500. */
  readonly render: () => Promise<string>;
  /** Content-Type of what `render` returns. */
  readonly contentType: string;
  /** Told why a scrape failed (the body says only "metrics unavailable"). */
  readonly onRenderError: (error: unknown) => void;
}

export interface MetricsServer {
  /** The port bound (METRICS_PORT). */
  readonly port: number;
  /** Stops accepting, lets a scrape in progress finish, closes idle keep-alive connections. */
  close(): Promise<void>;
}

/** A scrape that hangs (a stuck worker) is dropped; Prometheus's own default timeout is 10 s. */
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * The scrape endpoint: GET /metrics on its own port, apart from the API, so it can be left off the
 * public network. Plain node:http: one fixed path, no auth, no CORS, nothing the API's hooks add.
 * Rejects with the listen error (EADDRINUSE...) if the port cannot be bound.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    (request, response) => {
      void answer(request, response, options);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeIdleConnections();
      });
    },
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, options: MetricsServerOptions): Promise<void> {
  response.setHeader('cache-control', 'no-store');
  response.setHeader('x-content-type-options', 'nosniff');
  const path = (request.url ?? '').split('?', 1)[0];
  if (path !== '/metrics') {
    send(response, 404, 'Not Found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(response, 405, 'Method Not Allowed\n');
    return;
  }
  let body: string;
  try {
    body = await options.render();
  } catch (error) {
    options.onRenderError(error);
    send(response, 500, 'metrics unavailable\n');
    return;
  }
  send(response, 200, body, options.contentType);
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
