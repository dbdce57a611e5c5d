import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { apiConfigFor } from '../helpers/tenant.js';

// The API's key set is never reached here: only public, error and unknown routes are called.
let app: FastifyInstance;
before(async () => { app = await buildApp(apiConfigFor('http://127.0.0.1:9')); });
after(() => app.close());

const EXPECTED = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

describe('security headers', () => {
  const requests: [string, string, string, string?][] = [
    ['GET', '/api/messages/public', 'a refused request body', '{"a":1}'],
    ['GET', '/api/messages/%zz', 'a URL that does not decode'],
    ['GET', '/api/messages/public', 'a success'],
    ['GET', '/api/messages/protected', 'a 401'],
    ['GET', '/nowhere', 'a 404'],
    ['POST', '/api/messages/public', 'a 405'],
    ['GET', '/healthz', 'a health check'],
  ];
  for (const [method, url, what, payload] of requests) {
    it(`are on ${what} (${method} ${url})`, async () => {
      const response = await app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload }) });
      for (const [name, value] of Object.entries(EXPECTED)) {
        assert.equal(response.headers[name], value, name);
      }
      assert.equal(response.headers['x-powered-by'], undefined);
      assert.match(String(response.headers['x-request-id']), /^[\w.-]+$/);
    });
  }
});
