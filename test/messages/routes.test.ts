import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { MESSAGES, messageBody } from '../../src/messages/messages.js';
import { DPOP_CHALLENGE, resourceMetadata } from '../helpers/dpop.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

let tenant: TestTenant;
let app: FastifyInstance;
let userToken: string;
let adminToken: string;

before(async () => {
  tenant = await startTestTenant();
  app = await buildApp(apiConfigFor(tenant.tenant.url));
  userToken = await tenant.token('user');
  adminToken = await tenant.token('admin');
});
after(async () => {
  await app.close();
  await tenant.close();
});

function get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers });
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertError(response: LightMyRequestResponse, status: number, message: string | RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  const body = response.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body), ['message']);
  if (typeof message === 'string') assert.equal(body['message'], message);
  else assert.match(String(body['message']), message);
}

describe('GET /api/messages/public', () => {
  it('answers without a token', async () => {
    const response = await get('/api/messages/public');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(response.json(), messageBody('public'));
  });

  it('says it in `message` and in `text`, the field Auth0\'s Next.js Hello World shows', async () => {
    const body = (await get('/api/messages/public')).json<Record<string, unknown>>();
    assert.deepEqual(body, { message: MESSAGES.public, text: MESSAGES.public });
  });

  it('ignores a bad token: the route is public', async () => {
    const response = await get('/api/messages/public', bearer('not-a-token'));
    assert.equal(response.statusCode, 200);
  });
});

describe('GET /api/messages/protected', () => {
  it('answers with a valid token from the tenant', async () => {
    const response = await get('/api/messages/protected', bearer(userToken));
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, JSON.stringify({ message: MESSAGES.protected, text: MESSAGES.protected }));
  });

  it('accepts a lower-case scheme', async () => {
    assert.equal((await get('/api/messages/protected', { authorization: `bearer ${userToken}` })).statusCode, 200);
  });

  it('401 Requires authentication without an Authorization header', async () => {
    const response = await get('/api/messages/protected');
    assertError(response, 401, 'Requires authentication');
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", ${resourceMetadata()}, ${DPOP_CHALLENGE}`);
  });

  it('401 Requires authentication for another scheme', async () => {
    const response = await get('/api/messages/protected', { authorization: 'Basic dXNlcjpwYXNz' });
    assertError(response, 401, 'Requires authentication');
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", ${resourceMetadata()}, ${DPOP_CHALLENGE}`);
  });

  for (const header of ['Bearer', 'Bearer ', 'Bearer a.b.c extra', 'Bearer {"alg":"none"}']) {
    it(`400 for the malformed header ${JSON.stringify(header)}`, async () => {
      const response = await get('/api/messages/protected', { authorization: header });
      assertError(response, 400, /^Authorization header must be "Bearer <token>"/);
      assert.match(String(response.headers['www-authenticate']), /^Bearer realm="api", error="invalid_request", resource_metadata="[^"]+", DPoP realm="api", algs="[^"]+", resource_metadata="[^"]+"$/);
    });
  }

  it('never takes the token from the query string', async () => {
    const response = await get(`/api/messages/protected?access_token=${userToken}`);
    assertError(response, 401, 'Requires authentication');
  });

  const badTokens: [string, () => Promise<string>][] = [
    ['garbage', () => Promise.resolve('abc.def.ghi')],
    ['an expired token', () => tenant.sign({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token not yet valid', () => tenant.sign({ nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['a token without exp', () => tenant.sign({ exp: undefined })],
    ['another audience', () => tenant.sign({ aud: 'https://other.example.com' })],
    ['another issuer', () => tenant.sign({ iss: 'https://evil.example.com/' })],
    ['the issuer without its trailing slash', () => tenant.sign({ iss: tenant.tenant.url })],
    ['a tampered payload', () => {
      const [header, , signature] = userToken.split('.');
      const payload = Buffer.from(JSON.stringify({ ...decodePayload(adminToken), sub: 'someone-else' })).toString('base64url');
      return Promise.resolve(`${header ?? ''}.${payload}.${signature ?? ''}`);
    }],
    ['a stripped signature', () => Promise.resolve(`${userToken.split('.').slice(0, 2).join('.')}.`)],
    ['an unknown kid', () => tenant.sign({}, { kid: 'no-such-key' })],
    ['typ other than JWT or at+jwt', () => tenant.sign({}, { typ: 'id_token+jwt' })],
  ];
  for (const [name, makeToken] of badTokens) {
    it(`401 Bad credentials for ${name}`, async () => {
      const response = await get('/api/messages/protected', bearer(await makeToken()));
      assertError(response, 401, 'Bad credentials');
      assert.equal(response.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", ${resourceMetadata()}, ${DPOP_CHALLENGE}`);
    });
  }

  it('accepts typ at+jwt and an audience array containing the API', async () => {
    const token = await tenant.sign({ aud: ['https://other.example.com', tenant.config.audience] }, { typ: 'at+jwt' });
    assert.equal((await get('/api/messages/protected', bearer(token))).statusCode, 200);
  });

  it('tolerates 5 s of clock skew on exp, and not 30 s', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await get('/api/messages/protected', bearer(await tenant.sign({ exp: now - 2 })))).statusCode, 200);
    assert.equal((await get('/api/messages/protected', bearer(await tenant.sign({ exp: now - 30 })))).statusCode, 401);
  });
});

describe('GET /api/messages/admin', () => {
  it('answers a token with read:admin-messages', async () => {
    const response = await get('/api/messages/admin', bearer(adminToken));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { message: MESSAGES.admin, text: MESSAGES.admin });
  });

  it('403 Permission denied for a valid token without the permission', async () => {
    const response = await get('/api/messages/admin', bearer(userToken));
    assertError(response, 403, 'Permission denied');
    assert.equal(
      response.headers['www-authenticate'],
      `Bearer realm="api", error="insufficient_scope", scope="read:admin-messages", ${resourceMetadata()}, ${DPOP_CHALLENGE}`,
    );
  });

  for (const permissions of [undefined, 'read:admin-messages', ['READ:ADMIN-MESSAGES'], [['read:admin-messages']]]) {
    it(`403, never 500, when permissions is ${permissions === undefined ? 'missing' : JSON.stringify(permissions)}`, async () => {
      const response = await get('/api/messages/admin', bearer(await tenant.sign({ permissions })));
      assertError(response, 403, 'Permission denied');
    });
  }

  it('401 before 403: an invalid token with the permission is refused as bad credentials', async () => {
    const token = await tenant.sign({ permissions: ['read:admin-messages'], aud: 'https://other.example.com' });
    assertError(await get('/api/messages/admin', bearer(token)), 401, 'Bad credentials');
  });
});

describe('routing and errors', () => {
  it('404 Not Found as JSON for an unknown route', async () => {
    assertError(await get('/api/messages/unknown'), 404, 'Not Found');
    assertError(await get('/'), 404, 'Not Found');
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
    it(`405 with Allow for ${method} on a known route`, async () => {
      const response = await app.inject({ method, url: '/api/messages/public?x=1' });
      assertError(response, 405, 'Method Not Allowed');
      assert.equal(response.headers['allow'], 'GET, HEAD');
    });
  }

  // The method is judged before the no-body rule: a body never turns a 405 or 404 into a 400, nor
  // into Fastify's 415 for a content type it cannot parse.
  const withBody: [string, 'POST' | 'PUT' | 'PATCH' | 'DELETE', string, string, number, string][] = [
    ['POST with a JSON body', 'POST', '/api/messages/public', 'application/json', 405, 'Method Not Allowed'],
    ['PUT with a JSON body', 'PUT', '/api/messages/admin', 'application/json', 405, 'Method Not Allowed'],
    ['PATCH with an XML body', 'PATCH', '/api/messages/protected', 'text/xml', 405, 'Method Not Allowed'],
    ['DELETE with a text body', 'DELETE', '/healthz', 'text/plain', 405, 'Method Not Allowed'],
    ['POST with a body to an unknown path', 'POST', '/api/messages/unknown', 'application/json', 404, 'Not Found'],
  ];
  for (const [name, method, url, contentType, status, message] of withBody) {
    it(`${status} for ${name}, with the connection closed`, async () => {
      const response = await app.inject({ method, url, headers: { 'content-type': contentType }, payload: '{"a":1}' });
      assertError(response, status, message);
      assert.equal(response.headers['connection'], 'close');
      if (status === 405) assert.equal(response.headers['allow'], 'GET, HEAD');
    });
  }

  // The raw path must never be read as a route pattern: ":x(" and "*" in the middle made the
  // router throw (a 500) and cost regex work per request.
  for (const url of ['/:a(', '/*:(', '/api/messages/:x(', `/${'(a)'.repeat(500)}:a(`]) {
    it(`404, never 500, for the pattern-like path ${url.slice(0, 30)}`, async () => {
      for (const method of ['GET', 'POST'] as const) {
        assertError(await app.inject({ method, url }), 404, 'Not Found');
      }
    });
  }

  // %2F decodes to a slash, so the path reads as a known one, but the router does not take it:
  // a GET there is a 404, never a 405 telling the client that GET is not allowed but GET is.
  for (const method of ['GET', 'HEAD'] as const) {
    it(`404, not 405, for ${method} on a path that only decodes to a known one (/api/messages/public%2F)`, async () => {
      const response = await app.inject({ method, url: '/api/messages/public%2F' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers['allow'], undefined);
    });
  }

  it('405 for a percent-encoded known path with another method', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/messages/%70ublic/' });
    assertError(response, 405, 'Method Not Allowed');
  });

  it('400 for a request body on these GET routes', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/messages/public',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":1}',
    });
    assertError(response, 400, 'Request bodies are not accepted');
  });

  it('accepts Content-Type without a body, as the Hello World SPAs send it', async () => {
    const response = await get('/api/messages/public', { 'content-type': 'application/json' });
    assert.equal(response.statusCode, 200);
  });

  it('treats a trailing slash as the same route', async () => {
    assert.equal((await get('/api/messages/public/')).statusCode, 200);
    assert.equal((await get('/api/messages/protected/')).statusCode, 401);
  });

  it('answers HEAD on the GET routes', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/api/messages/public' });
    assert.equal(response.statusCode, 200);
  });
});

describe('health', () => {
  it('GET /healthz says the process is alive', async () => {
    const response = await get('/healthz');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });

  it('GET /readyz says ready once the signing keys load', async () => {
    const response = await get('/readyz');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ready' });
  });
});

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
