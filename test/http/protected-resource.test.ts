import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/server-config.js';
import { PROTECTED_RESOURCE_PATH, protectedResourceFor } from '../../src/http/protected-resource.js';
import { API_ORIGIN, type DpopHarness, PROTECTED, startDpopHarness } from '../helpers/dpop-harness.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * RFC 9728 (issue 18 item 2): the API describes itself at /.well-known/oauth-protected-resource,
 * and every 401/403 challenge names that document with `resource_metadata` (section 5.1), so a
 * client that knows only the API's URL finds the authorization server: challenge, metadata, then
 * the issuer's own discovery, all over real HTTP here.
 */
const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];
const documentOf = (env: Record<string, string>) => JSON.parse(protectedResourceFor(parseConfig(env)).document) as Record<string, unknown>;
const REAL = { AUTH0_DOMAIN: 'tenant.us.auth0.com,login.example.com', AUTH0_AUDIENCE: 'https://hello-world.example.com' };

describe('the metadata document for each configuration', () => {
  it('a tenant and its custom domain, defaults: resource http://localhost:PORT, both issuers, DPoP allowed', () => {
    assert.deepEqual(documentOf({ ...REAL, PORT: '7000' }), {
      resource: 'http://localhost:7000',
      authorization_servers: ['https://tenant.us.auth0.com/', 'https://login.example.com/'],
      scopes_supported: ['read:admin-messages'],
      bearer_methods_supported: ['header'],
      resource_name: 'Hello World API',
      dpop_signing_alg_values_supported: DPOP_ALGS,
      dpop_bound_access_tokens_required: false,
    });
  });

  it('API_ORIGIN: the first origin is the resource, and the metadata URL is under it', () => {
    const metadata = protectedResourceFor(parseConfig({ ...REAL, API_ORIGIN: 'https://API.example.com:443, https://api.example.org' }));
    assert.equal(metadata.resource, 'https://api.example.com');
    assert.equal(metadata.metadataUrl, 'https://api.example.com/.well-known/oauth-protected-resource');
  });

  it('DPOP=required: DPoP-bound tokens required', () => {
    assert.equal(documentOf({ ...REAL, DPOP: 'required' })['dpop_bound_access_tokens_required'], true);
  });

  it('DPOP=disabled: no DPoP members', () => {
    const document = documentOf({ ...REAL, DPOP: 'disabled' });
    assert.equal('dpop_signing_alg_values_supported' in document, false);
    assert.equal('dpop_bound_access_tokens_required' in document, false);
  });

  it('the dev tenant with DEV_TENANT_EXTRA_ISSUERS=2: its three issuers', () => {
    assert.deepEqual(documentOf({ DEV_TENANT_PORT: '7001', DEV_TENANT_EXTRA_ISSUERS: '2' })['authorization_servers'], [
      'http://localhost:7001/',
      'http://localhost:7002/',
      'http://localhost:7003/',
    ]);
  });
});

describe('GET /.well-known/oauth-protected-resource and the challenges (real tenant, API_ORIGIN set)', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness(); });
  after(() => h.close());
  const metadataUrl = `${API_ORIGIN}${PROTECTED_RESOURCE_PATH}`;

  it('answers the document as JSON, readable from any origin, with the security headers', async () => {
    const response = await h.app.inject({ method: 'GET', url: PROTECTED_RESOURCE_PATH, headers: { origin: 'https://mcp-client.example' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(response.headers['access-control-allow-origin'], '*');
    assert.equal(response.headers['access-control-allow-credentials'], undefined);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
    const document = response.json<Record<string, unknown>>();
    assert.equal(document['resource'], API_ORIGIN);
    assert.deepEqual(document['authorization_servers'], [`${h.tenant.tenant.url}/`]);
  });

  const refusals: readonly (readonly [string, string, () => Promise<Record<string, string>>, number])[] = [
    ['no credentials', PROTECTED, () => Promise.resolve({}), 401],
    ['a bad Bearer token', PROTECTED, () => Promise.resolve({ authorization: 'Bearer a.b.c' }), 401],
    ['a malformed header', PROTECTED, () => Promise.resolve({ authorization: 'Bearer a b' }), 400],
    ['a bound token as Bearer', PROTECTED, () => Promise.resolve({ authorization: `Bearer ${h.userToken}` }), 401],
    ['a DPoP token without its proof', PROTECTED, () => Promise.resolve({ authorization: `DPoP ${h.userToken}` }), 400],
    ['a DPoP token with a proof for another path', PROTECTED, async () => ({ authorization: `DPoP ${h.userToken}`, dpop: await h.proof(h.userToken, '/api/messages/admin') }), 401],
    ['a user token on the admin route', '/api/messages/admin', async () => ({ authorization: `DPoP ${h.userToken}`, dpop: await h.proof(h.userToken, '/api/messages/admin') }), 403],
  ];
  for (const [name, url, headers, status] of refusals) {
    it(`${name}: ${String(status)}, each challenge names the metadata`, async () => {
      const response: LightMyRequestResponse = await h.app.inject({ method: 'GET', url, headers: await headers() });
      assert.equal(response.statusCode, status, response.body);
      const challenge = String(response.headers['www-authenticate']);
      const [bearer = '', dpop = ''] = challenge.split(/, (?=DPoP realm=)/);
      assert.match(bearer, /^Bearer realm="api"/);
      assert.match(dpop, /^DPoP realm="api"/);
      for (const part of [bearer, dpop]) assert.ok(part.endsWith(`, resource_metadata="${metadataUrl}"`), challenge);
    });
  }

  it('leads a client from a 401 to the issuer: challenge, metadata, then the issuer\'s own discovery', async () => {
    const refused = await h.app.inject({ method: 'GET', url: PROTECTED });
    const url = /resource_metadata="([^"]+)"/.exec(String(refused.headers['www-authenticate']))?.[1];
    assert.equal(url, metadataUrl);
    const metadata = (await h.app.inject({ method: 'GET', url: new URL(url).pathname })).json<{ resource: string; authorization_servers: string[] }>();
    assert.equal(metadata.resource, new URL(url).origin, 'resource is the identifier the document was fetched for (RFC 9728 section 3.3)');
    const [issuer = ''] = metadata.authorization_servers;
    const discovery = (await (await fetch(new URL('.well-known/openid-configuration', issuer))).json()) as { issuer: string };
    assert.equal(discovery.issuer, issuer, 'the issuer names itself exactly as listed (RFC 8414 section 3.3)');
  });

  it('is described in the OpenAPI document, under the discovery tag', async () => {
    const openapi = (await h.app.inject('/openapi.json')).json<{ paths: Record<string, { get?: { tags?: string[] } }> }>();
    assert.deepEqual(openapi.paths[PROTECTED_RESOURCE_PATH]?.get?.tags, ['discovery']);
  });
});

describe('an API without API_ORIGIN', () => {
  let tenant: TestTenant;
  let app: FastifyInstance;
  before(async () => {
    tenant = await startTestTenant();
    app = await buildApp(apiConfigFor(tenant.tenant.url, { dpop: { ...parseConfig({ ...REAL, DPOP: 'disabled' }).dpop } }));
  });
  after(async () => {
    await app.close();
    await tenant.close();
  });

  it('DPOP=disabled: the one Bearer challenge names the loopback metadata URL, on 403 too', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/messages/admin', headers: { authorization: `Bearer ${await tenant.token('user')}` } });
    assert.equal(response.statusCode, 403);
    assert.equal(
      response.headers['www-authenticate'],
      'Bearer realm="api", error="insufficient_scope", scope="read:admin-messages", resource_metadata="http://localhost:6060/.well-known/oauth-protected-resource"',
    );
  });
});
