import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loggedTarget } from '../../src/http/logging.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

let tenant: TestTenant;
before(async () => { tenant = await startTestTenant(); });
after(() => tenant.close());

describe('logging', () => {
  it('writes JSON lines with a request id and never the token', async () => {
    const lines: string[] = [];
    const config = { ...apiConfigFor(tenant.tenant.url), logLevel: 'trace' as const };
    const app = await buildApp(config, { logStream: { write: (line) => lines.push(line) } });
    const token = await tenant.token('admin');
    const signature = token.split('.')[2] ?? '';
    const calls = [
      { url: '/api/messages/admin', headers: { authorization: `Bearer ${token}` } },
      { url: '/api/messages/protected', headers: { authorization: `Bearer ${token}x` } },
      { url: `/api/messages/protected?access_token=${token}`, headers: {} },
      // Fastify's own message for a bad URL quotes the whole URL, query string included.
      { url: `/api/messages/%zz?access_token=${token}`, headers: {} },
    ];
    const ids: string[] = [];
    for (const call of calls) {
      const response = await app.inject({ method: 'GET', ...call });
      ids.push(String(response.headers['x-request-id']));
    }
    await app.close();

    assert.ok(lines.length > 0);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const id of ids) assert.ok(entries.some((entry) => entry['reqId'] === id), `request ${id} is logged`);
    const all = lines.join('');
    assert.ok(!all.includes(signature), 'no token (signature part) in the logs');
    assert.ok(!all.toLowerCase().includes('bearer '), 'no Authorization header in the logs');
    assert.ok(entries.some((entry) => entry['msg'] === 'access token refused'), 'refusals are logged with their reason');
  });

  it('keeps a safe upstream X-Request-Id and replaces an unsafe one', async () => {
    const app = await buildApp(apiConfigFor(tenant.tenant.url));
    const kept = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'lb-1234.abc' } });
    const replaced = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\r\nx' } });
    await app.close();
    assert.equal(kept.headers['x-request-id'], 'lb-1234.abc');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

describe('loggedTarget', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const cases: readonly (readonly [string, string])[] = [
    ['/api/messages/public', '/api/messages/public'],
    ['/api/messages/public?access_token=x#f', '/api/messages/public'],
    ['/a#b?c', '/a'],
    [`/api/messages/${jwt}`, '/api/messages/[redacted-jwt]'],
    [`/x/${jwt}/y/${jwt}`, '/x/[redacted-jwt]/y/[redacted-jwt]'],
    [`/Bearer%20${jwt}`, '/Bearer%20[redacted-jwt]'],
    ['/eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', '/[redacted-jwt]'],
    ['/eyJhbGciOiJSUzI1NiJ9', '/eyJhbGciOiJSUzI1NiJ9'],
    ['/jquery.min.js', '/jquery.min.js'],
    ['http://user:pass@host.example:8080/path?q', 'http://host.example:8080/path'],
    ['https://:pass@host.example/p', 'https://host.example/p'],
    [`http://u:p@h.example/${jwt}`, 'http://h.example/[redacted-jwt]'],
    ['http://user:pass@host.example:99999/p', '[unparsed absolute-form target]'],
    ['*', '*'],
  ];
  for (const [url, logged] of cases) {
    it(`${url} is logged as ${logged}`, () => {
      assert.equal(loggedTarget(url), logged);
    });
  }
});
