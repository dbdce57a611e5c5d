import { DPOP_ALGORITHMS } from '../../src/auth/dpop-proof.js';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/server-process.js';
import { lookup } from 'node:dns/promises';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import type { DevTenantConfig } from '../../src/dev-tenant/config.js';
import { loadOrCreateSigningKeys, rotateSigningKey, signingKeysFilePath } from '../../src/dev-tenant/signing-keys.js';
import {
  type DevTenant,
  requestToken,
  startDevTenant,
  TenantUnreachableError,
  type TokenRequestEncoding,
  TokenRequestError,
} from '../../src/dev-tenant/tenant.js';
import { clientFor, startTestTenant, type TestTenant, tempKeysDir, testTenantConfig } from '../helpers/tenant.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Jwks {
  keys: Record<string, unknown>[];
}

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function jwksKids(tenant: DevTenant): Promise<string[]> {
  const { body } = await getJson(`${tenant.url}/.well-known/jwks.json`);
  return (body as Jwks).keys.map((key) => String(key.kid));
}

function credentials(config: DevTenantConfig, admin: boolean) {
  const client = clientFor(config, admin);
  return { clientId: client.clientId, clientSecret: client.clientSecret, audience: config.audience };
}

/** Verifies like a resource server would: fresh remote JWKS, issuer, audience, RS256 only. */
async function verify(tenant: DevTenant, token: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${tenant.url}/.well-known/jwks.json`));
  return jwtVerify(token, jwks, { issuer: tenant.issuer, audience, algorithms: ['RS256'], typ: 'JWT' });
}

async function postToken(tenant: DevTenant, contentType: string | undefined, body: string | undefined) {
  const response = await fetch(`${tenant.url}/oauth/token`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, cacheControl: response.headers.get('cache-control'), body: await response.json() };
}

describe('the dev tenant server', () => {
  it('advertises http://localhost with the real port, and answers on every address localhost resolves to', async (t) => {
    const { tenant } = await startTestTenant({ t });
    assert.match(tenant.url, /^http:\/\/localhost:\d+$/);
    const { port } = new URL(tenant.url);
    assert.notEqual(port, '0');
    assert.equal(tenant.issuer, `${tenant.url}/`);
    // Node 20 may try ::1 first for localhost; whichever it picks must be bound.
    const addresses = await lookup('localhost', { all: true });
    for (const { address, family } of [...addresses, { address: '127.0.0.1', family: 4 }]) {
      const host = family === 6 ? `[${address}]` : address;
      assert.equal((await fetch(`http://${host}:${port}/.well-known/jwks.json`)).status, 200, host);
    }
    assert.equal((await fetch(`${tenant.url}/.well-known/jwks.json`)).status, 200);
  });

  it('publishes the current public key as a JWKS', async (t) => {
    const { tenant, keysDir } = await startTestTenant({ t });
    const { current } = await loadOrCreateSigningKeys(keysDir);
    const { status, body } = await getJson(`${tenant.url}/.well-known/jwks.json`);
    assert.equal(status, 200);
    assert.deepEqual(body, { keys: [{ ...current.publicJwk }] });
    const [key] = (body as Jwks).keys;
    assert.deepEqual(Object.keys(key ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('publishes a complete OpenID configuration pointing at itself', async (t) => {
    const { tenant } = await startTestTenant({ t });
    const { status, body } = await getJson(`${tenant.url}/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      issuer: `${tenant.url}/`,
      authorization_endpoint: `${tenant.url}/authorize`,
      token_endpoint: `${tenant.url}/oauth/token`,
      userinfo_endpoint: `${tenant.url}/userinfo`,
      end_session_endpoint: `${tenant.url}/v2/logout`,
      jwks_uri: `${tenant.url}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'web_message'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: [
        'aud', 'auth_time', 'email', 'email_verified', 'exp', 'iat', 'iss', 'name', 'nickname', 'nonce', 'picture', 'sid', 'sub',
      ],
      request_uri_parameter_supported: false,
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    });
  });

  describe('issues Auth0-shaped M2M access tokens, JSON or form encoded', () => {
    const lifetime = 3600;
    let started: TestTenant;
    before(async () => { started = await startTestTenant({ config: { tokenLifetimeSeconds: lifetime } }); });
    after(() => started.close());
    const cases: [string, boolean, TokenRequestEncoding, string[]][] = [
      ['client, JSON', false, 'json', []],
      ['client, form', false, 'form', []],
      ['admin client, JSON', true, 'json', [ADMIN_PERMISSION]],
      ['admin client, form', true, 'form', [ADMIN_PERMISSION]],
    ];
    for (const [name, admin, encoding, permissions] of cases) {
      it(name, async () => {
        const { tenant, config, keysDir } = started;
        const { current } = await loadOrCreateSigningKeys(keysDir);
        const client = clientFor(config, admin);
        const before = Math.floor(Date.now() / 1000);
        const response = await requestToken(tenant.url, credentials(config, admin), encoding);
        const after = Math.floor(Date.now() / 1000);
        assert.deepEqual(Object.keys(response).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.equal(response.token_type, 'Bearer');
        assert.equal(response.expires_in, lifetime);
        assert.equal(response.scope, permissions.join(' '));

        const { payload, protectedHeader } = await verify(tenant, response.access_token, config.audience);
        assert.deepEqual(protectedHeader, { alg: 'RS256', typ: 'JWT', kid: current.kid });
        const { iat, exp, ...claims } = payload;
        assert.deepEqual(claims, {
          iss: tenant.issuer,
          sub: `${client.clientId}@clients`,
          aud: config.audience,
          azp: client.clientId,
          scope: permissions.join(' '),
          gty: 'client-credentials',
          permissions,
        });
        assert.ok(iat !== undefined && iat >= before && iat <= after, `iat ${String(iat)}`);
        assert.equal(exp, iat + lifetime);
      });
    }
  });

  it('token responses are not cacheable', async (t) => {
    const { tenant, config } = await startTestTenant({ t });
    const client = clientFor(config, false);
    const ok = await postToken(
      tenant,
      'application/json',
      JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, audience: config.audience }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.cacheControl, 'no-store');
    const bad = await postToken(tenant, 'application/json', '{');
    assert.equal(bad.status, 400);
    assert.equal(bad.cacheControl, 'no-store');
  });

  describe('rejects bad token requests the way Auth0 does', () => {
    let tenant: DevTenant;
    let started: TestTenant;
    before(async () => {
      started = await startTestTenant();
      tenant = started.tenant;
    });
    after(() => started.close());
    // The same defaults the started tenant has.
    const config = testTenantConfig('unused');
    const client = clientFor(config, false);
    const valid = {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      audience: config.audience,
    };
    const without = (name: keyof typeof valid) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== name));
    const json = (body: unknown) => ['application/json', JSON.stringify(body)] as const;
    const form = (body: Record<string, string>) => ['application/x-www-form-urlencoded', new URLSearchParams(body).toString()] as const;
    const cases: [string, readonly [string | undefined, string | undefined], number, string, string | RegExp][] = [
      ['another grant type', json({ ...valid, grant_type: 'password' }), 400, 'unsupported_grant_type', 'Unsupported grant type: password'],
      ['another grant type, form', form({ ...valid, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }), 400, 'unsupported_grant_type', 'Unsupported grant type: urn:ietf:params:oauth:grant-type:device_code'],
      ['the single-page app asking for client credentials', json({ ...valid, client_id: config.spa.clientId }), 403, 'unauthorized_client', "Grant type 'client_credentials' not allowed for the client."],
      ['no grant_type', json(without('grant_type')), 400, 'invalid_request', 'Missing required parameter: grant_type'],
      ['no client_id', json(without('client_id')), 400, 'invalid_request', 'Missing required parameter: client_id'],
      ['no client_secret', json(without('client_secret')), 400, 'invalid_request', 'Missing required parameter: client_secret'],
      ['no audience', json(without('audience')), 400, 'invalid_request', 'Missing required parameter: audience'],
      ['no audience, form', form(without('audience')), 400, 'invalid_request', 'Missing required parameter: audience'],
      ['empty audience', json({ ...valid, audience: '' }), 400, 'invalid_request', 'Missing required parameter: audience'],
      ['client_id not a string', json({ ...valid, client_id: 42 }), 400, 'invalid_request', 'Missing required parameter: client_id'],
      ['no body', [undefined, undefined], 400, 'invalid_request', 'Missing required parameter: grant_type'],
      ['a JSON array', json([valid]), 400, 'invalid_request', 'Missing required parameter: grant_type'],
      ['malformed JSON', ['application/json', '{"grant_type": "client_credentials",'], 400, 'invalid_request', /not valid JSON/],
      ['empty JSON body', ['application/json', ''], 400, 'invalid_request', /empty/],
      ['wrong secret', json({ ...valid, client_secret: `${client.clientSecret}x` }), 401, 'access_denied', 'Unauthorized'],
      ['wrong secret, same length', json({ ...valid, client_secret: client.clientSecret.replace(/.$/, '#') }), 401, 'access_denied', 'Unauthorized'],
      ['another client\'s secret', json({ ...valid, client_secret: clientFor(config, true).clientSecret }), 401, 'access_denied', 'Unauthorized'],
      ['unknown client', json({ ...valid, client_id: 'nobody' }), 401, 'access_denied', 'Unauthorized'],
      [
        'another audience',
        json({ ...valid, audience: 'https://other.example.com' }),
        403,
        'access_denied',
        /^Client is not authorized to access "https:\/\/other\.example\.com"\. You need to create a "client-grant" associated to this API\./,
      ],
      ['audience with a trailing slash', json({ ...valid, audience: `${config.audience}/` }), 403, 'access_denied', /not authorized/],
    ];
    for (const [name, [contentType, body], status, error, description] of cases) {
      it(name, async () => {
        const response = await postToken(tenant, contentType, body);
        assert.equal(response.status, status);
        const reply = response.body as Record<string, unknown>;
        assert.deepEqual(Object.keys(reply).sort(), ['error', 'error_description']);
        assert.equal(reply.error, error);
        if (typeof description === 'string') assert.equal(reply.error_description, description);
        else assert.match(String(reply.error_description), description);
      });
    }
  });

  it('other routes answer 404 JSON', async (t) => {
    const { tenant } = await startTestTenant({ t });
    for (const [method, path] of [['GET', '/'], ['GET', '/oauth/token'], ['POST', '/.well-known/jwks.json'], ['POST', '/authorize']]) {
      const response = await fetch(`${tenant.url}${path ?? ''}`, { method: method ?? 'GET' });
      assert.equal(response.status, 404, `${String(method)} ${String(path)}`);
      assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['error', 'error_description']);
    }
  });

  it('requestToken reports the tenant\'s refusal and an unreachable tenant clearly', async (t) => {
    const { tenant, config } = await startTestTenant({ t });
    await assert.rejects(
      requestToken(tenant.url, { ...credentials(config, false), clientSecret: 'wrong' }),
      (error: unknown) => {
        assert.ok(error instanceof TokenRequestError);
        assert.equal(error.status, 401);
        assert.equal(error.error, 'access_denied');
        assert.equal(error.errorDescription, 'Unauthorized');
        assert.match(error.message, /Unauthorized/);
        return true;
      },
    );
    const downUrl = `http://127.0.0.1:${String(await freePort())}`;
    await assert.rejects(requestToken(downUrl, credentials(config, false)), (error: unknown) => {
      assert.ok(error instanceof TenantUnreachableError);
      assert.ok(error.message.includes(downUrl), error.message);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('picks up a key rotation done while it runs; tokens of the old key keep verifying', async (t) => {
    const { tenant, config, keysDir } = await startTestTenant({ t });
    const before = await requestToken(tenant.url, credentials(config, false));
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    assert.deepEqual(await jwksKids(tenant), [oldKid]);

    // What `npm run dev-tenant:rotate-key` does, from outside the tenant.
    const rotated = await rotateSigningKey(keysDir);
    assert.notEqual(rotated.current.kid, oldKid);

    const after = await requestToken(tenant.url, credentials(config, true));
    assert.equal(decodeProtectedHeader(after.access_token).kid, rotated.current.kid);
    assert.deepEqual(await jwksKids(tenant), [rotated.current.kid, oldKid]);
    await verify(tenant, after.access_token, config.audience);
    await verify(tenant, before.access_token, config.audience);

    // A second rotation retires the first replacement too; all three keys are still in grace.
    const again = await rotateSigningKey(keysDir);
    assert.deepEqual(await jwksKids(tenant), [again.current.kid, rotated.current.kid, oldKid]);
  });

  it('stops publishing keys retired longer than the grace period', async (t) => {
    const keysDir = await tempKeysDir(t);
    const now = Date.now();
    const expired = await loadOrCreateSigningKeys(keysDir, new Date(now - 3 * DAY_MS));
    const recent = await rotateSigningKey(keysDir, new Date(now - 2 * DAY_MS));
    const current = await rotateSigningKey(keysDir, new Date(now - 60_000));
    // The file keeps what was in grace at the last rotation: the key retired 2 days ago is gone, the one retired 1 min ago stays.
    assert.deepEqual(current.all.map((key) => key.kid), [current.current.kid, recent.current.kid]);
    assert.notEqual(expired.current.kid, recent.current.kid);

    const tenant = await startDevTenant(testTenantConfig(keysDir));
    t.after(() => tenant.close());
    assert.deepEqual(await jwksKids(tenant), [current.current.kid, recent.current.kid]);

    // A token lifetime beyond the default grace stretches the grace to match it.
    const longLived = await startDevTenant(testTenantConfig(keysDir, { tokenLifetimeSeconds: 3 * 24 * 60 * 60 }));
    t.after(() => longLived.close());
    assert.equal((await jwksKids(longLived)).length, 2);
  });

  it('refuses to listen on a host that is not loopback', async (t) => {
    const keysDir = join(await tempKeysDir(t), 'not-created');
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '']) {
      await assert.rejects(startDevTenant(testTenantConfig(keysDir, { host })), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /loopback/);
        assert.ok(error.message.includes(`"${host}"`), error.message);
        return true;
      });
    }
    // It refused before touching anything: no keys were created.
    await assert.rejects(access(keysDir), { code: 'ENOENT' });
  });

  it('also listens on other loopback hosts', async (t) => {
    for (const [host, urlPattern] of [
      ['localhost', /^http:\/\/localhost:\d+$/],
      ['127.0.0.2', /^http:\/\/127\.0\.0\.2:\d+$/],
    ] as const) {
      const { tenant } = await startTestTenant({ t, config: { host } });
      assert.match(tenant.url, urlPattern);
      assert.equal((await getJson(`${tenant.url}/.well-known/jwks.json`)).status, 200);
    }
  });

  it('a corrupt keys file stops the start, and a running tenant reports it as a server error', async (t) => {
    const keysDir = await tempKeysDir(t);
    await mkdir(keysDir, { recursive: true });
    await writeFile(signingKeysFilePath(keysDir), 'not json');
    await assert.rejects(startDevTenant(testTenantConfig(keysDir)), { name: 'SigningKeysFileError' });

    const { tenant, keysDir: runningDir, config } = await startTestTenant({ t });
    await writeFile(signingKeysFilePath(runningDir), '{"version":1,"keys":[]}');
    const response = await fetch(`${tenant.url}/.well-known/jwks.json`);
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'server_error');
    assert.ok(body.error_description.includes(signingKeysFilePath(runningDir)), body.error_description);

    // Fixing the file (here: deleting it, so a new key is created) heals the running tenant without a restart.
    await rm(signingKeysFilePath(runningDir));
    const healed = await requestToken(tenant.url, credentials(config, false));
    assert.ok(healed.access_token.length > 0);
  });
});
