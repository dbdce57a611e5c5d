import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * GET /openapi.json: valid OpenAPI 3.1 by an independent validator, and true to what the API
 * answers: every error a route documents is produced here for real and its headers compared.
 */

let tenant: TestTenant;
let app: FastifyInstance;
let document: Record<string, unknown>;
let userToken: string;

before(async () => {
  tenant = await startTestTenant();
  app = await buildApp(apiConfigFor(tenant.tenant.url));
  userToken = await tenant.token('user');
  const response = await app.inject('/openapi.json');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  document = response.json<Record<string, unknown>>();
});
after(async () => {
  await app.close();
  await tenant.close();
});

interface Operation {
  readonly tags?: string[];
  readonly security?: Record<string, string[]>[];
  readonly responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
}

function operation(path: string): Operation {
  const paths = document['paths'] as Record<string, { get?: Operation }>;
  const get = paths[path]?.get;
  assert.ok(get, `GET ${path} is described`);
  return get;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.equal(validator.version, '3.1');
  });

  it('is refused by the same validator when broken (the check can fail)', async () => {
    const broken = { ...structuredClone(document), info: { title: 'no version' } };
    const result = await new Validator().validate(broken);
    assert.equal(result.valid, false);
  });

  it('declares the Bearer and DPoP schemes (RFC 6750, RFC 9449)', () => {
    const components = document['components'] as { securitySchemes: Record<string, Record<string, unknown>> };
    const pick = (name: string) => {
      const scheme = components.securitySchemes[name] ?? {};
      return { type: scheme['type'], scheme: scheme['scheme'], bearerFormat: scheme['bearerFormat'] };
    };
    assert.deepEqual(pick('bearerAuth'), { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    assert.deepEqual(pick('dpopAuth'), { type: 'http', scheme: 'DPoP', bearerFormat: undefined });
  });

  const routes: [string, boolean][] = [
    ['/api/messages/public', false],
    ['/api/messages/protected', true],
    ['/api/messages/admin', true],
  ];
  for (const [path, needsToken] of routes) {
    it(`describes GET ${path}: tag, ${needsToken ? 'Bearer or DPoP security' : 'no security'}, the {"message","text"} body`, () => {
      const get = operation(path);
      assert.deepEqual(get.tags, ['messages']);
      assert.deepEqual(get.security, needsToken ? [{ bearerAuth: [] }, { dpopAuth: [] }] : undefined);
      const schema = (get.responses['200']?.content?.['application/json'] as { schema: Record<string, unknown> }).schema;
      assert.deepEqual(schema['required'], ['message', 'text']);
      assert.equal(schema['additionalProperties'], false);
    });
  }

  it('does not describe itself', () => {
    assert.equal((document['paths'] as Record<string, unknown>)['/openapi.json'], undefined);
  });

  it('lists every error status of the API, each with its headers, under components.responses', () => {
    const responses = (document['components'] as { responses: Record<string, { headers: Record<string, unknown> }> }).responses;
    const expected: Record<string, string[]> = {
      400: ['WWW-Authenticate', 'Connection'],
      401: ['WWW-Authenticate', 'DPoP-Nonce'],
      403: ['WWW-Authenticate'],
      404: [],
      405: ['Allow'],
      408: ['Connection'],
      429: ['Retry-After'],
      431: ['Connection'],
      500: [],
      503: ['Retry-After'],
    };
    assert.deepEqual(Object.keys(responses).sort(), Object.keys(expected).sort());
    for (const [status, headers] of Object.entries(expected)) {
      assert.deepEqual(Object.keys(responses[status]?.headers ?? {}), headers, status);
    }
  });
});

describe('the document matches what the API answers', () => {
  const cases: [string, string, Record<string, string>, number, string[]][] = [
    ['no token', '/api/messages/protected', {}, 401, ['www-authenticate']],
    ['a bad token', '/api/messages/admin', { authorization: 'Bearer a.b.c' }, 401, ['www-authenticate']],
    ['a malformed Authorization header', '/api/messages/protected', { authorization: 'Bearer a b' }, 400, ['www-authenticate']],
    ['a token without the permission', '/api/messages/admin', {}, 403, ['www-authenticate']],
    ['a request body', '/api/messages/public', { 'content-type': 'text/plain' }, 400, ['connection']],
  ];
  for (const [name, path, headers, status, realHeaders] of cases) {
    it(`GET ${path} with ${name}: ${status}, documented with the headers it sends`, async () => {
      const withToken = status === 403 ? { authorization: `Bearer ${userToken}` } : {};
      const response: LightMyRequestResponse = await app.inject({
        method: 'GET',
        url: path,
        headers: { ...headers, ...withToken },
        ...(name === 'a request body' && { payload: 'x' }),
      });
      assert.equal(response.statusCode, status, response.body);
      const documented = operation(path).responses[String(status)];
      assert.ok(documented, `${status} is documented for ${path}`);
      const documentedHeaders = Object.keys(documented.headers ?? {}).map((header) => header.toLowerCase());
      for (const header of realHeaders) {
        assert.ok(response.headers[header] !== undefined, `${header} is sent`);
        assert.ok(documentedHeaders.includes(header), `${header} is documented`);
      }
    });
  }
});
