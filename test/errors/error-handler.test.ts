import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { apiConfigFor } from '../helpers/tenant.js';

describe('error handler', () => {
  it('answers an unexpected error with a bare 500 and logs the details', async () => {
    const lines: string[] = [];
    const config = { ...apiConfigFor('http://127.0.0.1:9'), logLevel: 'info' as const };
    const app = await buildApp(config, { logStream: { write: (line) => lines.push(line) } });
    app.get('/boom', () => {
      throw new Error('database password is hunter2 at /srv/app/secret.ts:12');
    });
    const response = await app.inject({ method: 'GET', url: '/boom' });
    await app.close();

    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { message: 'Internal Server Error' });
    assert.doesNotMatch(response.body, /hunter2|secret\.ts|at /);
    assert.ok(lines.some((line) => line.includes('hunter2')), 'the cause is in the log');
  });

  it("answers Fastify's own client errors as {message}", async () => {
    const app = await buildApp(apiConfigFor('http://127.0.0.1:9'));
    const response = await app.inject({ method: 'GET', url: '/api/messages/%E0%A4%A' });
    await app.close();
    assert.equal(response.statusCode, 400);
    assert.deepEqual(Object.keys(response.json<object>()), ['message']);
  });
});
