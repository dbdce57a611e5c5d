import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { parseConfig } from '../../src/server-config.js';
import { allTenantConfigs, extraTenantConfig } from '../../src/dev-tenant/extra-issuers.js';
import { requestToken } from '../../src/dev-tenant/tenant.js';
import { messageBody } from '../../src/messages/messages.js';
import { freePort, startServerProcess } from '../helpers/server-process.js';
import { childEnv, lastLine, runTsScript } from './helpers.js';

/** Is `port` free on 127.0.0.1 right now? */
function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => server.close(() => { resolve(true); }));
  });
}

/** A free port whose next port is free too (bounded tries): the dev tenant and one extra issuer. */
async function twoFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort();
    if (port < 65535 && (await isFree(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports');
}

describe('extra issuer configs', () => {
  const devTenant = parseConfig({ DEV_TENANT_PORT: '7001', DEV_TENANT_EXTRA_ISSUERS: '2', DEV_TENANT_KEYS_DIR: '/keys' }).devTenant;

  it('puts tenant n on DEV_TENANT_PORT + n - 1 with its own keys folder', () => {
    assert.ok(devTenant);
    const second = extraTenantConfig(devTenant, 2);
    assert.equal(second.port, 7002);
    assert.equal(second.url, 'http://localhost:7002');
    assert.equal(second.keysDir, join('/keys', 'issuer-2'));
    assert.deepEqual(allTenantConfigs(devTenant).map((config) => config.url), [
      'http://localhost:7001',
      'http://localhost:7002',
      'http://localhost:7003',
    ]);
  });

  it('has the API trust every one of them', () => {
    const config = parseConfig({ DEV_TENANT_PORT: '7001', DEV_TENANT_EXTRA_ISSUERS: '2' });
    assert.deepEqual(config.auth.issuers.map(({ issuer }) => issuer), [
      'http://localhost:7001/',
      'http://localhost:7002/',
      'http://localhost:7003/',
    ]);
  });

  const refused: [Record<string, string>, RegExp][] = [
    [{ DEV_TENANT_EXTRA_ISSUERS: '5' }, /DEV_TENANT_EXTRA_ISSUERS must be a whole number from 0 to 4/],
    [{ DEV_TENANT_PORT: '7001', DEV_TENANT_EXTRA_ISSUERS: '1', PORT: '7002' }, /DEV_TENANT_EXTRA_ISSUERS would use port 7002, which is PORT/],
    [{ DEV_TENANT_PORT: '65535', DEV_TENANT_EXTRA_ISSUERS: '1' }, /DEV_TENANT_EXTRA_ISSUERS needs ports up to 65536/],
  ];
  for (const [vars, problem] of refused) {
    it(`refuses ${JSON.stringify(vars)} with one line`, () => {
      assert.throws(() => parseConfig(vars), (error: unknown) => error instanceof Error && !error.message.includes('\n') && problem.test(error.message));
    });
  }
});

describe('the server with DEV_TENANT_EXTRA_ISSUERS=1 and AUTH0_SIGNING_ALGS=RS256,PS256', () => {
  let keysDir: string;
  before(async () => { keysDir = await mkdtemp(join(tmpdir(), 'hello-api-extra-issuers-')); });
  after(() => rm(keysDir, { recursive: true, force: true }));

  it('serves two issuers with their own keys, and the API accepts RS256 and PS256 tokens of both', async () => {
    const tenantPort = await twoFreePorts();
    const env = {
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(tenantPort),
      DEV_TENANT_EXTRA_ISSUERS: '1',
      AUTH0_SIGNING_ALGS: 'RS256,PS256',
      DEV_TENANT_KEYS_DIR: keysDir,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const server = await startServerProcess(env);
    try {
      const second = `http://localhost:${tenantPort + 1}`;
      await server.waitFor(({ stderr }) => stderr.includes(`Also trusted: ${second}/`));
      const devTenant = parseConfig(env).devTenant;
      assert.ok(devTenant);
      const client = devTenant.clients[0];
      assert.ok(client);
      const credentials = { clientId: client.clientId, clientSecret: client.clientSecret, audience: devTenant.audience };
      const first = `http://localhost:${tenantPort}`;

      // The token CLI, as a user runs it, for the second issuer with PS256.
      const cli = await runTsScript('src/dev-tenant/cli/token.ts', ['--issuer', '2', '--alg', 'PS256'], {
        env: childEnv({ DEV_TENANT_PORT: env.DEV_TENANT_PORT, DEV_TENANT_EXTRA_ISSUERS: '1', AUTH0_SIGNING_ALGS: 'RS256,PS256', DEV_TENANT_KEYS_DIR: keysDir }),
        cwd: keysDir,
      });
      assert.equal(cli.code, 0, cli.stderr);
      const tokens = [
        lastLine(cli.stdout),
        (await requestToken(first, credentials)).access_token,
        (await requestToken(second, credentials)).access_token,
        (await requestToken(first, credentials, 'json', { signingAlg: 'PS256' })).access_token,
      ];
      assert.deepEqual(tokens.map((token) => [decodeJwt(token).iss, decodeProtectedHeader(token).alg]), [
        [`${second}/`, 'PS256'],
        [`${first}/`, 'RS256'],
        [`${second}/`, 'RS256'],
        [`${first}/`, 'PS256'],
      ]);
      const kids = new Set(tokens.map((token) => decodeProtectedHeader(token).kid));
      assert.equal(kids.size, 4, 'each issuer and algorithm has its own key');

      for (const token of tokens) {
        const response = await fetch(`http://127.0.0.1:${env.PORT}/api/messages/protected`, { headers: { authorization: `Bearer ${token}` } });
        assert.deepEqual({ status: response.status, body: await response.json() }, { status: 200, body: messageBody('protected') });
      }
      assert.equal((await fetch(`http://127.0.0.1:${env.PORT}/readyz`)).status, 200);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });
});
