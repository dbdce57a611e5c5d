import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startMetricsServer } from '../../src/metrics/metrics-server.js';
import { freePort } from '../helpers/server-process.js';

describe('startMetricsServer', () => {
  it('answers 500 without details when the metrics cannot be read, and reports why', async (t) => {
    const reported: unknown[] = [];
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: await freePort(),
      render: () => Promise.reject(new Error('worker 3 did not answer')),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      onRenderError: (error) => reported.push(error),
    });
    t.after(() => server.close());
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), 'metrics unavailable\n');
    assert.match(String(reported[0]), /worker 3 did not answer/);
  });

  it('closes while a scraper keeps its connection open, and frees the port', async () => {
    const port = await freePort();
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port,
      render: () => Promise.resolve('up 1\n'),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      onRenderError: () => undefined,
    });
    const response = await fetch(`http://127.0.0.1:${port}/metrics`); // keep-alive connection
    assert.equal(await response.text(), 'up 1\n');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    await server.close();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
  });
});
