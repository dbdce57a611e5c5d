import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type RawAnswer, rawRequest } from '../helpers/raw-http.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * Two Authorization headers (issue 16, W5): Node keeps the first by default, a proxy may read the
 * last, so the API refuses the request (400 invalid_request) before any token work. Sent over a
 * real socket: app.inject cannot repeat a header the way Node's parser receives it.
 */
let tenant: TestTenant;
let app: FastifyInstance;
let port: number;
let userToken: string;

before(async () => {
  tenant = await startTestTenant();
  app = await buildApp(apiConfigFor(tenant.tenant.url));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  userToken = await tenant.token('user');
});
after(async () => {
  await app.close();
  await tenant.close();
});

const get = (path: string, ...headers: string[]): Promise<RawAnswer> =>
  rawRequest(port, [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers].join('\r\n'));

function assertRepeatedRefused(answer: RawAnswer): void {
  assert.equal(answer.status, 400, answer.body);
  assert.deepEqual(JSON.parse(answer.body), { message: 'A request takes exactly one Authorization header' });
  // The error goes on the challenge of the scheme the (first) header names, when it names one.
  assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer realm="api"/);
}

describe('more than one Authorization header', () => {
  it('a valid token once: 200 (and now cached, so the fast path would take it)', async () => {
    assert.equal((await get('/api/messages/protected', `Authorization: Bearer ${userToken}`)).status, 200);
  });

  const cases: readonly (readonly [string, () => string[]])[] = [
    ['the valid token first, another second', () => [`Authorization: Bearer ${userToken}`, 'Authorization: Bearer other.token.value']],
    ['another first, the valid token second', () => ['Authorization: Bearer other.token.value', `Authorization: Bearer ${userToken}`]],
    ['the same valid token twice', () => [`Authorization: Bearer ${userToken}`, `Authorization: Bearer ${userToken}`]],
    ['Bearer and DPoP', () => [`Authorization: Bearer ${userToken}`, `Authorization: DPoP ${userToken}`]],
    ['an empty header, then the valid token', () => ['Authorization:', `Authorization: Bearer ${userToken}`]],
    ['Basic, then the valid token', () => ['Authorization: Basic dXNlcjpwYXNz', `Authorization: Bearer ${userToken}`]],
  ];
  for (const [name, headers] of cases) {
    it(`${name}: 400 invalid_request`, async () => {
      const answer = await get('/api/messages/protected', ...headers());
      assertRepeatedRefused(answer);
      if (headers()[0]?.startsWith('Authorization: Bearer ') === true) {
        assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer realm="api", error="invalid_request"/);
      }
    });
  }

  it('the admin route refuses them the same way', async () => {
    assertRepeatedRefused(await get('/api/messages/admin', `authorization: Bearer ${userToken}`, `AUTHORIZATION: Bearer ${userToken}`));
  });

  it('one header with commas of its own (Digest) is still one header: 401, not 400', async () => {
    const answer = await get('/api/messages/protected', 'Authorization: Digest username="a", realm="api", nonce="n"');
    assert.equal(answer.status, 401, answer.body);
  });

  it('the public route ignores them, and the server keeps serving', async () => {
    assert.equal((await get('/api/messages/public', 'Authorization: Bearer a', 'Authorization: Bearer b')).status, 200);
    assert.equal((await get('/api/messages/protected', `Authorization: Bearer ${userToken}`)).status, 200);
  });
});
