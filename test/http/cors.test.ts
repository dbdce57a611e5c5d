import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { apiConfigFor } from '../helpers/tenant.js';

const CLIENT = 'http://localhost:4040';
let app: FastifyInstance;
before(async () => { app = await buildApp(apiConfigFor('http://127.0.0.1:9', { clientOriginUrl: CLIENT })); });
after(() => app.close());

function preflight(url: string, origin: string, requestHeaders = 'authorization,content-type') {
  return app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': requestHeaders },
  });
}

describe('CORS', () => {
  for (const url of ['/api/messages/public', '/api/messages/protected', '/api/messages/admin']) {
    it(`lets the client origin preflight ${url} with Authorization, Content-Type and DPoP`, async () => {
      const response = await preflight(url, CLIENT);
      assert.equal(response.statusCode, 204);
      assert.equal(response.headers['access-control-allow-origin'], CLIENT);
      assert.equal(response.headers['access-control-allow-methods'], 'GET');
      assert.equal(response.headers['access-control-allow-headers'], 'Authorization, Content-Type, DPoP');
      assert.equal(response.headers['access-control-max-age'], '86400');
    });
  }

  it('names only the configured origin, never *', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/messages/public', headers: { origin: 'https://evil.example' } });
    assert.notEqual(response.headers['access-control-allow-origin'], '*');
    assert.notEqual(response.headers['access-control-allow-origin'], 'https://evil.example');
    const allowed = await app.inject({ method: 'GET', url: '/api/messages/public', headers: { origin: CLIENT } });
    assert.equal(allowed.headers['access-control-allow-origin'], CLIENT);
  });

  it('answers a bare OPTIONS without a text/plain error', async () => {
    const response = await app.inject({ method: 'OPTIONS', url: '/api/messages/public' });
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, '');
  });

  it('echoes the request id on preflights', async () => {
    const response = await preflight('/api/messages/protected', CLIENT);
    assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('refuses a preflight that carries a body, and closes the connection instead of draining it', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/api/messages/public',
      headers: { origin: CLIENT, 'access-control-request-method': 'GET' },
      payload: '{"a":1}',
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { message: 'Request bodies are not accepted' });
    assert.equal(response.headers['connection'], 'close');
  });

  it('lets a DPoP client preflight "authorization, dpop" (auth0-spa-js useDpop)', async () => {
    const response = await preflight('/api/messages/protected', CLIENT, 'authorization,dpop');
    assert.equal(response.statusCode, 204);
    assert.match(String(response.headers['access-control-allow-headers']), /(^|, )DPoP(,|$)/);
  });

  it('exposes WWW-Authenticate and DPoP-Nonce to the client origin, so it can retry with a nonce', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/messages/protected', headers: { origin: CLIENT } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['access-control-expose-headers'], 'WWW-Authenticate, DPoP-Nonce');
  });

  it('does not allow credentials (tokens travel in headers, not cookies)', async () => {
    const response = await preflight('/api/messages/protected', CLIENT);
    assert.equal(response.headers['access-control-allow-credentials'], undefined);
  });
});
