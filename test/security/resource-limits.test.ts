import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { buildApp } from '../../src/app.js';
import { TokenCache } from '../../src/auth/token-cache.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import { type Harness, assertRefusalBody, assertStillServing, startHarness } from './helpers.js';

/**
 * Limits that keep abusive clients from tying the server up, driven over a real socket on
 * 127.0.0.1 where Node's HTTP parser (not app.inject) is in play.
 */

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The server closed the connection before `waitMs`. */
  readonly closed: boolean;
  readonly elapsedMs: number;
}

/**
 * Writes `chunks` on a fresh connection (pausing `gapMs` between them), then reads until the
 * server closes or `waitMs` passes (then the test side closes). Bounded in time either way.
 */
function exchange(port: number, chunks: readonly (string | Buffer)[], waitMs = 5_000, gapMs = 0): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (data) => received.push(data));
    socket.on('error', () => undefined); // a reset after the answer is fine; the answer is what counts
    socket.on('end', () => { closed = true; });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ status, headers, body: rest.join('\r\n\r\n'), closed, elapsedMs: Date.now() - started });
    });
    socket.on('connect', () => {
      void (async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) return;
          socket.write(chunk);
          if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        }
      })().catch(reject);
    });
  });
}

function get(path: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: '127.0.0.1', connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A 431/408/400 from the parser, answered the API's way. */
function assertJsonRefusal(response: RawResponse, status: number): void {
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8', JSON.stringify(response));
  assertRefusalBody(response.status, response.body, status);
}

const MAX_HEADER_BYTES = 16 * 1024; // Node's default --max-http-header-size

let h: Harness;
let port: number;
before(async () => {
  h = await startHarness();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
after(() => h.close());

describe('header size', () => {
  it('a token that keeps the headers just under 16 KiB reaches the token check (401)', async () => {
    const request = get('/api/messages/protected', { authorization: 'Bearer ' });
    const token = `${'a'.repeat(MAX_HEADER_BYTES - request.length - 200)}.b.c`;
    const response = await exchange(port, [get('/api/messages/protected', { authorization: `Bearer ${token}` })]);
    assertJsonRefusal(response, 401);
  });

  it('a token over 16 KiB of headers: 431 {"message"} and the connection closed', async () => {
    const token = `${'a'.repeat(MAX_HEADER_BYTES)}.b.c`;
    const response = await exchange(port, [get('/api/messages/protected', { authorization: `Bearer ${token}` })]);
    assertJsonRefusal(response, 431);
    assert.equal(response.headers['connection'], 'close');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.ok(response.closed, 'the server closed the connection');
    await assertStillServing(h);
  });

  it('many small headers adding up to more than 16 KiB: 431', async () => {
    const headers = Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`x-filler-${i}`, 'y'.repeat(20)]));
    assertJsonRefusal(await exchange(port, [get('/api/messages/public', headers)]), 431);
  });

  it('one huge non-auth header on a public route: 431', async () => {
    assertJsonRefusal(await exchange(port, [get('/api/messages/public', { cookie: 'c'.repeat(64 * 1024) })]), 431);
  });

  it('keeps serving over the network after the refusals', async () => {
    const response = await exchange(port, [get('/api/messages/admin', { authorization: `Bearer ${h.adminToken}` })]);
    assert.equal(response.status, 200, response.body);
  });
});

describe('malformed requests are refused by the parser as {"message"}', () => {
  const cases: [string, string][] = [
    ['Content-Length together with Transfer-Encoding (smuggling)', 'GET /api/messages/public HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a header name with a space', 'GET /api/messages/public HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
    ['an invalid Content-Length', 'GET /api/messages/public HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    ['a broken request line', 'GET\r\n\r\n'],
    ['an Authorization header with a control character', 'GET /api/messages/protected HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0001b\r\n\r\n'],
  ];
  for (const [name, raw] of cases) {
    it(`400 for ${name}`, async () => {
      const response = await exchange(port, [raw]);
      assertJsonRefusal(response, 400);
      assert.ok(response.closed);
    });
  }
});

describe('no request bodies on these GET routes', () => {
  it('400 for a chunked body, before any token work', async () => {
    const head = 'GET /api/messages/protected HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n';
    const response = await exchange(port, [head, '7\r\n{"a":1}\r\n', '0\r\n\r\n']);
    assertJsonRefusal(response, 400);
    assert.deepEqual(JSON.parse(response.body), { message: 'Request bodies are not accepted' });
  });

  it('400 for a chunked body that never ends, without waiting for it', async () => {
    const head = 'GET /api/messages/public HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const started = Date.now();
    const response = await exchange(port, [head, 'ffff\r\n', 'x'.repeat(1024)], 20_000);
    assert.equal(response.status, 400);
    assert.deepEqual(JSON.parse(response.body), { message: 'Request bodies are not accepted' });
    assert.ok(response.closed, 'the connection is closed instead of draining the body');
    // Waiting for the body would last until the 20 s exchange deadline.
    assert.ok(Date.now() - started < 10_000, 'closed before the exchange deadline');
  });

  it('400 for a Content-Length body', async () => {
    const response = await exchange(port, ['GET /api/messages/public HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{"a":1}']);
    assertJsonRefusal(response, 400);
  });
});

describe('timeouts', () => {
  it('the request and keep-alive timeouts reach the Node server', () => {
    const server = h.app.server as typeof h.app.server & { connectionsCheckingInterval?: number };
    assert.equal(server.requestTimeout, 10_000);
    assert.equal(server.keepAliveTimeout, 5_000);
    assert.equal(server.connectionsCheckingInterval, 1_000, 'expired requests are looked for every second');
  });

  it('tells keep-alive clients the 5 s idle timeout', async () => {
    const response = await exchange(port, [get('/healthz', { connection: 'keep-alive' })], 500);
    assert.equal(response.status, 200);
    assert.equal(response.headers['keep-alive'], 'timeout=5');
  });

  describe('with the request timeout lowered to 300 ms', () => {
    // The same app, with only the timeouts shortened so a slow client is dropped in test time.
    let app: FastifyInstance;
    let slowPort: number;
    before(async () => {
      app = await buildApp(h.config, { issuers: h.issuers });
      app.server.requestTimeout = 300;
      app.server.keepAliveTimeout = 300;
      await app.listen({ host: '127.0.0.1', port: 0 });
      slowPort = (app.server.address() as AddressInfo).port;
    });
    after(() => app.close());

    it('drops a slowloris client (headers never finished) with 408 {"message"} in about a second', async () => {
      const chunks = ['GET /api/messages/protected HTTP/1.1\r\n', 'Host: x\r\n', 'X-a: 1\r\n', 'X-b: 2\r\n', 'X-c: 3\r\n', 'X-d: 4\r\n'];
      const response = await exchange(slowPort, chunks, 30_000, 150);
      assertJsonRefusal(response, 408);
      assert.ok(response.closed, 'the server closed the connection');
      // Generous bound for a loaded machine: 300 ms + one 1 s check interval + slack; Node's default interval is 30 s.
      assert.ok(response.elapsedMs < 15_000, `closed after ${response.elapsedMs} ms`);
    });

    it('drops a connection that never sends a byte', async () => {
      const response = await exchange(slowPort, [], 30_000);
      assert.ok(response.closed && response.elapsedMs < 15_000, `closed after ${response.elapsedMs} ms`);
    });

    it('closes an idle keep-alive connection', async () => {
      const response = await exchange(slowPort, [get('/healthz', { connection: 'keep-alive' })], 30_000);
      assert.equal(response.status, 200);
      assert.ok(response.closed && response.elapsedMs < 15_000, `closed after ${response.elapsedMs} ms`);
    });
  });
});

describe('bounded token cache', () => {
  it('TokenCache never holds more than maxEntries, evicting the least recently used', () => {
    const cache = new TokenCache({ maxEntries: 5, maxAgeSeconds: 300 });
    const now = Date.now();
    // Keys that always vouch for their kid: this test is about the LRU bound alone.
    const keys = { hasFreshKid: () => true };
    for (let i = 0; i < 100; i += 1) cache.set({ token: `token-${i}`, claims: {}, kid: 'k', keys, expiresAt: now + 60_000 }, now);
    assert.equal(cache.size, 5);
    assert.equal(cache.get('token-0', now, 0), undefined);
    assert.notEqual(cache.get('token-99', now, 0), undefined);
  });

  it('a client sending many distinct valid tokens cannot grow the verifier cache past maxEntries', async () => {
    const cache = new TokenCache({ maxEntries: 3, maxAgeSeconds: 300 });
    const verifier = createTokenVerifier({ auth: h.config.auth, issuers: h.issuers, cache });
    const { current } = await loadOrCreateSigningKeys(h.tenant.keysDir);
    for (let i = 0; i < 20; i += 1) {
      const token = await new SignJWT(h.claims({ jti: `t${i}` }))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: current.kid })
        .sign(current.privateKey);
      await verifier.verify(token);
      assert.ok(cache.size <= 3, `cache size ${cache.size}`);
    }
    assert.equal(cache.size, 3);
  });

  it('turns off with maxEntries 0', () => {
    assert.equal(TokenCache.create({ maxEntries: 0, maxAgeSeconds: 300 }), null);
  });
});
