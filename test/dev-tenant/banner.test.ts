import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import type { DevTenantClient } from '../../src/dev-tenant/config.js';
import { DPOP_CALL_COMMAND, devTenantCurlCommands, formatDevTenantBanner, shellQuote } from '../../src/dev-tenant/banner.js';
import type { DpopMode } from '../../src/config/dpop-config.js';
import type { DevTenant } from '../../src/dev-tenant/tenant.js';
import { childEnv, run } from './helpers.js';
import { clientFor, startTestTenant, tempKeysDir, testTenantConfig } from '../helpers/tenant.js';

const API_URL = 'http://localhost:6060';

async function bash(t: TestContext, script: string) {
  return run('bash', ['-c', script], { env: childEnv({}), cwd: await tempKeysDir(t), timeoutMs: 60_000 });
}

async function verifiedPermissions(tenant: DevTenant, token: string, audience: string): Promise<unknown> {
  const jwks = createRemoteJWKSet(new URL(`${tenant.url}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { issuer: tenant.issuer, audience, algorithms: ['RS256'] });
  return payload.permissions;
}

/** Stands in for the API: echoes the path and Authorization header each request carried. */
async function startEchoApi(t: TestContext): Promise<string> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ path: request.url, authorization: request.headers.authorization ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => { resolve(); })));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

describe('the dev tenant banner', () => {
  it('the banner warns, names the tenant and both clients, and shows how to get tokens', async (t) => {
    const config = testTenantConfig(await tempKeysDir(t));
    const tenantUrl = 'http://127.0.0.1:6061';
    const banner = formatDevTenantBanner({ apiUrl: API_URL, tenantUrl, config });
    assert.match(banner, /DEV TENANT MODE/);
    assert.match(banner, /Do NOT use it in production/);
    assert.match(banner, /AUTH0_DOMAIN/);
    assert.ok(banner.includes(tenantUrl));
    for (const client of config.clients) {
      assert.ok(banner.includes(client.clientId), client.clientId);
      assert.ok(banner.includes(client.clientSecret), client.clientSecret);
    }
    assert.ok(banner.includes(ADMIN_PERMISSION));
    assert.ok(banner.includes('npm run -s token'));
    assert.ok(banner.includes('npm run -s token -- --admin'));
    const commands = devTenantCurlCommands({ apiUrl: API_URL, tenantUrl, config });
    for (const command of Object.values(commands)) assert.ok(banner.includes(command), command);
    assert.ok(banner.split('\n').length < 40, 'short');
  });

  const dpopRows: [string, DpopMode | undefined, boolean][] = [
    ['DPOP unset (allowed)', undefined, true],
    ['DPOP=required', 'required', true],
    ['DPOP=disabled', 'disabled', false],
  ];
  for (const [name, dpopMode, shown] of dpopRows) {
    it(`${name}: the DPoP call command is ${shown ? 'shown' : 'left out'}`, async (t) => {
      const config = testTenantConfig(await tempKeysDir(t));
      const input = { apiUrl: API_URL, tenantUrl: 'http://localhost:6061', config };
      const banner = formatDevTenantBanner(dpopMode === undefined ? input : { ...input, dpopMode });
      assert.equal(banner.includes(DPOP_CALL_COMMAND), shown);
      assert.equal(banner.includes('the Bearer calls below answer 401'), dpopMode === 'required');
    });
  }

  it('names the extra issuers inside the banner, before its closing rule', async (t) => {
    const config = testTenantConfig(await tempKeysDir(t));
    const extra = 'Also trusted: http://localhost:6062/ (DEV_TENANT_EXTRA_ISSUERS)  token: npm run -s token -- --issuer 2';
    const lines = formatDevTenantBanner({ apiUrl: API_URL, tenantUrl: 'http://localhost:6061', config, extraIssuerLines: [extra] }).split('\n');
    assert.equal(lines.at(-2), extra);
    assert.match(lines.at(-1) ?? '', /^=+$/);
  });

  it('prints what a Hello World SPA needs, named as the samples name it', async (t) => {
    const config = testTenantConfig(await tempKeysDir(t));
    const banner = formatDevTenantBanner({ apiUrl: API_URL, tenantUrl: 'http://localhost:6061', config });
    for (const line of [
      '  AUTH0_DOMAIN=http://localhost:6061',
      '  AUTH0_CLIENT_ID=hello-world-spa',
      '  AUTH0_CALLBACK_URL=http://localhost:4040/callback',
      '  AUTH0_AUDIENCE=https://hello-world.example.com',
      `  API_SERVER_URL=${API_URL}`,
      '  Log in as: user@example.com (no permissions), admin@example.com (read:admin-messages)',
    ]) {
      assert.ok(banner.split('\n').includes(line), line);
    }
    assert.match(banner, /React adds REACT_APP_, Vue VITE_/);
  });

  it("prints the .env.local of Auth0's Next.js Hello World: the regular web app client", async (t) => {
    const config = testTenantConfig(await tempKeysDir(t));
    const lines = formatDevTenantBanner({ apiUrl: API_URL, tenantUrl: 'http://localhost:6061', config }).split('\n');
    const start = lines.findIndex((line) => line.startsWith('Regular web app (.env.local'));
    assert.ok(start > 0);
    assert.match(lines[start] ?? '', /AUTH0_SECRET/);
    assert.deepEqual(lines.slice(start + 1, start + 7), [
      '  AUTH0_BASE_URL=http://localhost:4040',
      '  AUTH0_ISSUER_BASE_URL=http://localhost:6061',
      '  AUTH0_CLIENT_ID=hello-world-web',
      '  AUTH0_CLIENT_SECRET=hello-world-web-secret',
      '  AUTH0_AUDIENCE=https://hello-world.example.com',
      `  API_SERVER_URL=${API_URL}`,
    ]);
  });

  it('the API calls target the three message endpoints, with the token where needed', async (t) => {
    const config = testTenantConfig(await tempKeysDir(t));
    const commands = devTenantCurlCommands({ apiUrl: API_URL, tenantUrl: 'http://127.0.0.1:6061', config });
    assert.equal(commands.callPublic, `curl -s -w '\\n' ${API_URL}/api/messages/public`);
    assert.equal(commands.callProtected, `curl -s -w '\\n' ${API_URL}/api/messages/protected -H "authorization: Bearer $TOKEN"`);
    assert.equal(commands.callAdmin, `curl -s -w '\\n' ${API_URL}/api/messages/admin -H "authorization: Bearer $TOKEN"`);
  });

  it('the token commands work in bash with curl and node against a running tenant', async (t) => {
    const { tenant, config } = await startTestTenant({ t });
    const commands = devTenantCurlCommands({ apiUrl: API_URL, tenantUrl: tenant.url, config });
    for (const [command, permissions] of [
      [commands.fetchToken, []],
      [commands.fetchAdminToken, [ADMIN_PERMISSION]],
    ] as const) {
      const result = await bash(t, `set -e\n${command}\nprintf '%s' "$TOKEN"`);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await verifiedPermissions(tenant, result.stdout, config.audience), permissions);
    }
  });

  it('pasted in sequence, the commands send the fetched token to the API', async (t) => {
    const { tenant, config } = await startTestTenant({ t });
    const apiUrl = await startEchoApi(t);
    const commands = devTenantCurlCommands({ apiUrl, tenantUrl: tenant.url, config });
    const script = [commands.callPublic, commands.fetchAdminToken, commands.callProtected, commands.callAdmin].join('\n');
    const result = await bash(t, `set -e\n${script}`);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { path: string; authorization: string | null });
    assert.deepEqual(lines.map((line) => line.path), ['/api/messages/public', '/api/messages/protected', '/api/messages/admin']);
    assert.equal(lines[0]?.authorization, null);
    const bearer = lines[2]?.authorization ?? '';
    assert.equal(lines[1]?.authorization, bearer);
    assert.match(bearer, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(await verifiedPermissions(tenant, bearer.slice('Bearer '.length), config.audience), [ADMIN_PERMISSION]);
  });

  it('secrets with shell metacharacters are quoted so the command still works', async (t) => {
    const plain = testTenantConfig(await tempKeysDir(t));
    const awkward: DevTenantClient = { ...clientFor(plain, false), clientSecret: `it's "a" $ecret \`x\` \\ !` };
    const { tenant, config } = await startTestTenant({ t, config: { clients: [awkward, clientFor(plain, true)] } });
    const { fetchToken } = devTenantCurlCommands({ apiUrl: API_URL, tenantUrl: tenant.url, config });
    const result = await bash(t, `set -e\n${fetchToken}\nprintf '%s' "$TOKEN"`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await verifiedPermissions(tenant, result.stdout, config.audience), []);
  });

  it('shellQuote leaves safe words alone and quotes everything else', async (t) => {
    assert.equal(shellQuote('http://127.0.0.1:6061/oauth/token'), 'http://127.0.0.1:6061/oauth/token');
    for (const value of ['a b', `it's`, '$HOME', '`id`', '"', '', 'a;b', 'x\ny']) {
      const result = await bash(t, `printf '%s' ${shellQuote(value)}`);
      assert.equal(result.stdout, value, JSON.stringify(value));
    }
  });
});
