import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { DEFAULT_AUDIENCE } from '../src/config/config.js';
import { parseConfig } from '../src/server-config.js';
import { devTenantCurlCommands } from '../src/dev-tenant/banner.js';
import { messageBody } from '../src/messages/messages.js';
import { childEnv, runTsScript } from './dev-tenant/helpers.js';
import { startJwksServer } from './helpers/jwks-server.js';
import { type ServerProcess, freePort, startServerProcess } from './helpers/server-process.js';
import { type TestKey, makeTestKey, signTestToken } from './helpers/signing-key.js';
import { type TestTenant, startTestTenant } from './helpers/tenant.js';

const run = promisify(execFile);
const BANNER_END = /Call the API:[\s\S]*={78}/;

async function bash(script: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', script], { timeout: 60_000 });
  return stdout.trim();
}

/** Waits for the dev tenant banner; returns its commands, aimed at the API on 127.0.0.1:PORT. */
async function bannerCommands(server: ServerProcess, env: Record<string, string> & { readonly PORT: string }) {
  await server.waitFor(({ stderr }) => BANNER_END.test(stderr));
  const devTenant = parseConfig(env).devTenant;
  assert.ok(devTenant);
  return devTenantCurlCommands({ apiUrl: `http://127.0.0.1:${env.PORT}`, tenantUrl: devTenant.url, config: devTenant });
}

let keysDir: string;
before(async () => { keysDir = await mkdtemp(join(tmpdir(), 'hello-api-e2e-')); });
after(() => rm(keysDir, { recursive: true, force: true }));

describe('the server process in dev tenant mode', () => {
  it('starts API and tenant, prints a banner whose curl commands work, and stops cleanly on SIGTERM', async () => {
    const env = {
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(await freePort()),
      DEV_TENANT_KEYS_DIR: keysDir,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const server = await startServerProcess(env);
    try {
      await server.waitFor(({ stderr }) => BANNER_END.test(stderr));
      assert.match(server.stderr, /DEV TENANT MODE/);
      assert.match(server.stderr, /Do NOT use it in production/);

      // Run the banner's own commands, as a user would paste them.
      const devTenant = parseConfig(env).devTenant;
      assert.ok(devTenant);
      const commands = devTenantCurlCommands({
        apiUrl: `http://localhost:${env.PORT}`,
        tenantUrl: devTenant.url,
        config: devTenant,
      });
      for (const command of Object.values<string>(commands)) assert.ok(server.stderr.includes(command), command);
      // The SPA's domain is the issuer the tokens carry and the API expects (the commands below prove the API accepts them).
      assert.ok(server.stderr.includes(`  AUTH0_DOMAIN=http://localhost:${env.DEV_TENANT_PORT}\n`), server.stderr);
      assert.equal(devTenant.url, `http://localhost:${env.DEV_TENANT_PORT}`);

      assert.deepEqual(JSON.parse(await bash(commands.callPublic)), messageBody('public'));
      assert.deepEqual(JSON.parse(await bash(`${commands.fetchToken}\n${commands.callProtected}`)), messageBody('protected'));
      assert.deepEqual(JSON.parse(await bash(`${commands.fetchToken}\n${commands.callAdmin}`)), {
        message: 'Permission denied',
      });
      assert.deepEqual(JSON.parse(await bash(`${commands.fetchAdminToken}\n${commands.callAdmin}`)), messageBody('admin'));

      // Logs are JSON lines on stdout.
      const lines = server.stdout.trim().split('\n');
      assert.ok(lines.every((line) => typeof JSON.parse(line) === 'object'));
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });

  for (const workers of ['1', '2']) {
    it(`with PORT=0 (${workers} worker${workers === '1' ? '' : 's'}) prints banner commands for the port the OS gave`, async () => {
      const env = { PORT: '0', DEV_TENANT_PORT: String(await freePort()), DEV_TENANT_KEYS_DIR: keysDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn', WEB_CONCURRENCY: workers, DPOP: 'disabled' };
      const server = await startServerProcess(env);
      try {
        await server.waitFor(({ stderr }) => BANNER_END.test(stderr));
        const port = /curl -s -w '\\n' http:\/\/localhost:(\d+)\/api\/messages\/public/.exec(server.stderr)?.[1];
        assert.ok(port !== undefined && port !== '0', server.stderr);
        const response = await fetch(`http://127.0.0.1:${port}/api/messages/public`);
        assert.deepEqual(await response.json(), messageBody('public'));
      } finally {
        assert.equal(await server.stop('SIGTERM'), 0);
      }
    });
  }

  it('serves with WEB_CONCURRENCY=2 workers and the tenant in the primary', async () => {
    const env = {
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(await freePort()),
      DEV_TENANT_KEYS_DIR: keysDir,
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
      // Several workers need a shared replay store for DPoP (test/security/dpop-redis.test.ts runs one).
      DPOP: 'disabled',
      LOG_LEVEL: 'warn',
    };
    const server = await startServerProcess(env);
    try {
      const commands = await bannerCommands(server, env);
      const script = `${commands.fetchAdminToken}\nfor i in 1 2 3 4 5 6; do ${commands.callAdmin}; done`;
      const answers = (await bash(script)).split('\n').map((line) => JSON.parse(line) as unknown);
      assert.deepEqual(answers, Array.from({ length: 6 }, () => messageBody('admin')));
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });

  it('refuses WEB_CONCURRENCY=2 with DPoP on and no REDIS_URL, in one line naming the variables', async () => {
    const server = await startServerProcess({
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(await freePort()),
      DEV_TENANT_KEYS_DIR: keysDir,
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
    });
    assert.equal(await server.exited, 1);
    assert.equal(
      server.stderr,
      'Invalid configuration: WEB_CONCURRENCY=2 with DPOP=allowed needs REDIS_URL (a replay store shared by the workers), or set DPOP=disabled\n',
    );
  });
});

describe('the server process with a real tenant configured', () => {
  let tenant: TestTenant;
  before(async () => { tenant = await startTestTenant(); });
  after(() => tenant.close());

  it('starts no dev tenant and prints no banner when AUTH0_DOMAIN is set', async () => {
    const devTenantPort = await freePort();
    const port = await freePort();
    const server = await startServerProcess({
      AUTH0_DOMAIN: tenant.tenant.url,
      AUTH0_AUDIENCE: tenant.config.audience,
      DEV_TENANT_PORT: String(devTenantPort),
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await server.waitFor(({ stdout }) => stdout.includes('Server listening'));
      const response = await fetch(`http://127.0.0.1:${port}/api/messages/protected`, {
        headers: { authorization: `Bearer ${await tenant.token()}` },
      });
      assert.equal(response.status, 200);
      assert.doesNotMatch(server.stderr, /DEV TENANT/);
      await assert.rejects(fetch(`http://127.0.0.1:${devTenantPort}/.well-known/jwks.json`));
    } finally {
      assert.equal(await server.stop('SIGINT'), 0);
    }
  });

  it('finishes an in-flight request before exiting on SIGTERM', async () => {
    // The JWKS answers slowly, so the protected request is still in flight when SIGTERM arrives.
    const keys: unknown = await (await fetch(`${tenant.tenant.url}/.well-known/jwks.json`)).json();
    const slowJwks = await startJwksServer({ kind: 'delay', ms: 800, body: keys });
    const port = await freePort();
    const server = await startServerProcess({
      AUTH0_DOMAIN: slowJwks.url,
      AUTH0_AUDIENCE: tenant.config.audience,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await server.waitFor(({ stdout }) => stdout.includes('Server listening'));
      const token = await tenant.sign({ iss: `${slowJwks.url}/` });
      const pending = fetch(`http://127.0.0.1:${port}/api/messages/protected`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      server.child.kill('SIGTERM');
      const response = await pending;
      assert.equal(response.status, 200);
      assert.equal(await server.exited, 0);
    } finally {
      await server.stop();
      await slowJwks.close();
    }
  });
});

describe('signing keys in a real process (issue 15)', () => {
  const apiEnv = async (jwksUrl: string) => ({
    NODE_ENV: 'production',
    ALLOW_LOOPBACK_ISSUER: 'true',
    AUTH0_DOMAIN: jwksUrl,
    AUTH0_AUDIENCE: DEFAULT_AUDIENCE,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    SHUTDOWN_DRAIN_SECONDS: '0',
  });
  /** A stand-in tenant serving `keys`, and the API (production) trusting it; both stopped after the test. */
  const apiBehindStandIn = async (t: TestContext, keys: readonly TestKey[]) => {
    const jwks = await startJwksServer({ kind: 'json', body: { keys: keys.map((key) => key.jwk) } });
    t.after(() => jwks.close());
    const env = await apiEnv(jwks.url);
    const server = await startServerProcess(env);
    t.after(async () => { assert.equal(await server.stop('SIGTERM'), 0); });
    await server.waitFor(({ stdout }) => stdout.includes('Server listening'));
    return { jwks, issuer: `${jwks.url}/`, port: env.PORT };
  };
  const call = (port: string, token: string) =>
    fetch(`http://127.0.0.1:${port}/api/messages/protected`, { headers: { authorization: `Bearer ${token}` } });

  it('accepts a key the dev tenant published a moment ago (npm run dev-tenant:rotate-key) on its first request', async (t) => {
    const env = {
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(await freePort()),
      DEV_TENANT_KEYS_DIR: await mkdtemp(join(tmpdir(), 'hello-api-rotate-')),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    t.after(() => rm(env.DEV_TENANT_KEYS_DIR, { recursive: true, force: true }));
    const server = await startServerProcess(env);
    try {
      const commands = await bannerCommands(server, env);
      const tokenNow = async () => bash(`${commands.fetchToken}\nprintf %s "$TOKEN"`);
      const before = await tokenNow();
      assert.equal((await call(env.PORT, before)).status, 200);

      const rotated = await runTsScript('src/dev-tenant/cli/rotate-key.ts', [], {
        env: childEnv({ DEV_TENANT_KEYS_DIR: env.DEV_TENANT_KEYS_DIR }),
        cwd: env.DEV_TENANT_KEYS_DIR,
      });
      assert.equal(rotated.code, 0, rotated.stderr);
      const newKid = /new kid:\s+(\S+)/.exec(rotated.stdout)?.[1];
      const after = await tokenNow();
      assert.equal(decodeProtectedHeader(after).kid, newKid, 'the token is signed by the new key');
      assert.notEqual(newKid, decodeProtectedHeader(before).kid);
      assert.equal((await call(env.PORT, after)).status, 200, 'first request with the new key');
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });

  it('fetches a key published a moment ago at once, and answers a new kid 503 with Retry-After from the first request of an outage', async (t) => {
    const [oldKey, newKey, outageKey] = await Promise.all([makeTestKey('old'), makeTestKey('new'), makeTestKey('during-outage')]);
    const { jwks, issuer, port } = await apiBehindStandIn(t, [oldKey]);
    assert.equal((await call(port, await signTestToken(oldKey, issuer))).status, 200);

    jwks.behaviour = { kind: 'json', body: { keys: [newKey.jwk, oldKey.jwk] } };
    assert.equal((await call(port, await signTestToken(newKey, issuer))).status, 200, 'no 30 s window');

    jwks.behaviour = { kind: 'raw', status: 503, body: 'down' };
    const response = await call(port, await signTestToken(outageKey, issuer));
    assert.equal(response.status, 503);
    assert.match(response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.deepEqual(await response.json(), { message: 'The signing keys needed to check access tokens are unavailable; try again shortly' });
    assert.equal((await call(port, await signTestToken(newKey, issuer))).status, 200, 'known keys keep working');
  });

  it('a flood of random kids gets 401 and costs the tenant no more fetches than the budget: 3, then one per 10 s', async (t) => {
    const key = await makeTestKey('genuine');
    const { jwks, issuer, port } = await apiBehindStandIn(t, [key]);
    assert.equal((await call(port, await signTestToken(key, issuer))).status, 200);
    const loaded = jwks.requests;
    const started = Date.now();
    for (let wave = 0; wave < 10; wave += 1) {
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => signTestToken(key, issuer, `random-${wave}-${i}`)));
      const statuses = await Promise.all(tokens.map(async (token) => (await call(port, token)).status));
      assert.deepEqual(statuses, tokens.map(() => 401), `wave ${wave}`);
    }
    const allowed = 3 + Math.floor((Date.now() - started) / 10_000);
    const fetches = jwks.requests - loaded;
    assert.ok(fetches >= 1 && fetches <= allowed, `${fetches} JWKS fetches for 100 random kids, ${allowed} allowed`);
  });
});

describe('start-up refusals', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['NODE_ENV=production without AUTH0_DOMAIN', { NODE_ENV: 'production' }, /AUTH0_DOMAIN is required when NODE_ENV=production/],
    ['an invalid PORT', { PORT: 'http' }, /PORT must be a whole number/],
    ['a domain with a path', { AUTH0_DOMAIN: 'tenant.auth0.com/oauth/token', AUTH0_AUDIENCE: 'https://a' }, /AUTH0_DOMAIN must be a host name without a path/],
    [
      'NODE_ENV=production with a plain-http loopback issuer',
      { NODE_ENV: 'production', AUTH0_DOMAIN: 'http://localhost:7161', AUTH0_AUDIENCE: 'https://a' },
      /AUTH0_DOMAIN http:\/\/localhost:7161 is not an https issuer.*ALLOW_LOOPBACK_ISSUER=true/,
    ],
  ];
  for (const [name, env, line] of cases) {
    it(`stops with one clear line for ${name}`, async () => {
      const server = await startServerProcess(env);
      assert.equal(await server.exited, 1);
      const lines = server.stderr.trim().split('\n');
      assert.equal(lines.length, 1, server.stderr);
      assert.match(lines[0] ?? '', line);
      assert.equal(server.stdout, '');
    });
  }

  it('stops with one clear line naming the file when the dev tenant keys file is corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hello-api-badkeys-'));
    try {
      await writeFile(join(dir, 'signing-keys.json'), '{"version":1,"keys":');
      const server = await startServerProcess({ DEV_TENANT_KEYS_DIR: dir, DEV_TENANT_PORT: String(await freePort()), PORT: String(await freePort()) });
      assert.equal(await server.exited, 1);
      const lines = server.stderr.trim().split('\n');
      assert.equal(lines.length, 1, server.stderr);
      assert.ok(lines[0]?.includes(join(dir, 'signing-keys.json')), server.stderr);
      assert.doesNotMatch(server.stderr, /could not listen|at .*\.ts/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops with one clear line naming DEV_TENANT_KEYS_DIR when the folder cannot be made', async () => {
    const file = join(keysDir, 'not-a-folder');
    await writeFile(file, 'x');
    const server = await startServerProcess({ DEV_TENANT_KEYS_DIR: join(file, 'keys'), DEV_TENANT_PORT: String(await freePort()), PORT: String(await freePort()) });
    assert.equal(await server.exited, 1);
    assert.match(server.stderr.trim(), /not-a-folder\/keys\/signing-keys.json cannot be read \(ENOTDIR\); check DEV_TENANT_KEYS_DIR$/);
    assert.equal(server.stderr.trim().split('\n').length, 1);
  });

  it('stops with one clear line when PORT is taken', async () => {
    const port = await freePort();
    const blocker = await startServerProcess({
      PORT: String(port), HOST: '127.0.0.1', DEV_TENANT_PORT: String(await freePort()), DEV_TENANT_KEYS_DIR: keysDir, LOG_LEVEL: 'silent',
    });
    try {
      await blocker.waitFor(({ stderr }) => BANNER_END.test(stderr));
      const second = await startServerProcess({
        PORT: String(port), HOST: '127.0.0.1', DEV_TENANT_PORT: String(await freePort()), DEV_TENANT_KEYS_DIR: keysDir, LOG_LEVEL: 'silent',
      });
      assert.equal(await second.exited, 1);
      assert.match(second.stderr.trim(), new RegExp(`^PORT ${port} is already in use`));
    } finally {
      await blocker.stop();
    }
  });
});
