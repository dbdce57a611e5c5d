// The truer floor: bare node:http sending byte for byte what the API sends for a 200 on
// /api/messages/protected (status, every header in the same order, body), captured from the API at
// the start of the bench and passed in SAME_BYTES_RESPONSE. Only what must differ per response is
// made per request, as the API makes it: a fresh x-request-id (randomUUID) and node's own Date,
// Connection and Keep-Alive. Every path gets this response (the bench's readiness probe included):
// it measures the cost of the bytes, not of routing.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const spec = JSON.parse(process.env.SAME_BYTES_RESPONSE ?? 'null');
if (spec === null || !Array.isArray(spec.headers) || typeof spec.body !== 'string') {
  console.error('SAME_BYTES_RESPONSE must hold {"status", "headers": [[name, value]...], "body"}');
  process.exit(2);
}
const headers = spec.headers.map(([name, value]) => [name, value]);
const idIndex = headers.findIndex(([name]) => name.toLowerCase() === 'x-request-id');

const server = createServer((_request, response) => {
  if (idIndex !== -1) headers[idIndex][1] = randomUUID();
  response.writeHead(spec.status, headers.flat());
  response.end(spec.body);
});

server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
process.once('SIGINT', () => process.exit(0));
