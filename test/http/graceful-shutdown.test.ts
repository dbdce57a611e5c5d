import assert from 'node:assert/strict';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { GracefulShutdown } from '../../src/http/graceful-shutdown.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * The shutdown sequence over real sockets on 127.0.0.1, in-process (src/server.ts calls `run()` on
 * SIGTERM/SIGINT; test/shutdown.test.ts sends the signals to real processes).
 */

let tenant: TestTenant;
before(async () => { tenant = await startTestTenant(); });
after(() => tenant.close());

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
}

function get(port: number, path: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (response) => {
      response.resume();
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers }); });
    });
    req.on('error', reject);
    req.end();
  });
}

async function startApi(drainMs: number) {
  const shutdown = new GracefulShutdown({ drainMs });
  const app = await buildApp(apiConfigFor(tenant.tenant.url), { shutdown });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, shutdown, port };
}

describe('graceful shutdown', () => {
  it('answers /readyz 503 at once, serves keep-alive requests during the drain with Connection: close, resets none', async (t) => {
    const drainMs = 1_000;
    const { app, shutdown, port } = await startApi(drainMs);
    t.after(() => app.close());
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    t.after(() => { agent.destroy(); });
    // Eight keep-alive connections, open and idle when the signal comes.
    const warm = await Promise.all(Array.from({ length: 8 }, () => get(port, '/api/messages/public', agent)));
    assert.ok(warm.every((answer) => answer.status === 200 && answer.headers['connection'] === 'keep-alive'));

    const started = Date.now();
    const stopped = shutdown.run();
    assert.equal((await get(port, '/readyz', false)).status, 503);

    // Requests keep arriving on those connections (and new ones) in the first half of the drain
    // window: the end of the window is where connections close, by design.
    const answers: Answer[] = [];
    const errors: string[] = [];
    while (Date.now() - started < drainMs / 2) {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => get(port, '/api/messages/public', agent)));
      for (const result of results) {
        if (result.status === 'fulfilled') answers.push(result.value);
        else errors.push(String((result.reason as NodeJS.ErrnoException).code ?? result.reason));
      }
    }
    await stopped;

    assert.deepEqual(errors, [], 'no request was reset or refused');
    assert.ok(answers.length >= 8, String(answers.length));
    assert.ok(answers.every((answer) => answer.status === 200), JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.every((answer) => answer.headers['connection'] === 'close'));
    assert.ok(Date.now() - started >= drainMs, 'the server stayed open for the drain window');
    await assert.rejects(get(port, '/healthz', false), { code: 'ECONNREFUSED' });
  });

  for (const [name, partial] of [
    ['request line only', 'GET /api/messages/public HTTP/1.1\r\n'],
    ['headers not finished', 'GET /api/messages/public HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc'],
  ] as const) {
    it(`closes a half-sent request (${name}) instead of waiting for it`, async (t) => {
      const { app, shutdown, port } = await startApi(0);
      t.after(() => app.close());
      const socket = connect(port, '127.0.0.1');
      t.after(() => { socket.destroy(); });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => { socket.once('connect', resolve); });
      socket.write(partial);
      const socketClosed = new Promise<void>((resolve) => { socket.once('close', () => { resolve(); }); });
      await new Promise((resolve) => setTimeout(resolve, 100));

      // Without the sweep, server.close() would wait for this socket forever (Node's request
      // timeout sweep stops with it), so the bound here is far below the 10 s request timeout.
      const deadline = new Promise<'timed out'>((resolve) => setTimeout(() => { resolve('timed out'); }, 3_000).unref());
      assert.equal(await Promise.race([shutdown.run().then(() => 'closed' as const), deadline]), 'closed');
      await socketClosed;
    });
  }
});
