// The throughput ceiling for this machine: bare node:http, the same JSON bodies, no auth, no
// headers beyond Content-Type. Nothing real can be faster; the bench reports the API against it.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';

const MESSAGES = {
  '/api/messages/public': "The API doesn't require an access token to share this message.",
  '/api/messages/protected': 'The API successfully validated your access token.',
  '/api/messages/admin': 'The API successfully recognized you as an admin.',
};
const NOT_FOUND = JSON.stringify({ message: 'Not Found' });

const server = createServer((request, response) => {
  const message = MESSAGES[request.url ?? ''];
  const body = message === undefined ? NOT_FOUND : JSON.stringify({ message, text: message });
  response.writeHead(message === undefined ? 404 : 200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});

server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
process.once('SIGINT', () => process.exit(0));
