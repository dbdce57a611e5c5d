import assert from 'node:assert/strict';
import { freePort } from '../helpers/server-process.js';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import type { DevTenant } from '../../src/dev-tenant/tenant.js';
import { assertNoTenantAnswers, childEnv, lastLine, type RunResult, runTsScript } from './helpers.js';
import { clientFor, startTestTenant, tempKeysDir, testTenantConfig, type TestTenant } from '../helpers/tenant.js';

const SCRIPT = 'src/dev-tenant/cli/token.ts';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * Runs the CLI as `npm run token` would, configured only through an explicit environment and
 * from an empty temp directory, so neither the developer's shell nor a `.env` can leak in.
 */
async function runToken(t: TestContext, port: number, keysDir: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const cwd = await tempKeysDir(t);
  const env = childEnv({ DEV_TENANT_PORT: String(port), DEV_TENANT_KEYS_DIR: keysDir, ...extraEnv });
  return runTsScript(SCRIPT, args, { env, cwd });
}

async function verifiedPermissions(tenant: DevTenant, token: string, audience: string): Promise<unknown> {
  const jwks = createRemoteJWKSet(new URL(`${tenant.url}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { issuer: tenant.issuer, audience, algorithms: ['RS256'] });
  return payload.permissions;
}

describe('npm run token', () => {
  describe('prints a token from the running tenant as the last stdout line', { concurrency: true }, () => {
    let started: TestTenant;
    before(async () => { started = await startTestTenant(); });
    after(() => started.close());
    // The same client ids and secrets the started tenant has.
    const config = testTenantConfig('unused');
    const cases: [string, string[], string[]][] = [
      ['default client', [], []],
      ['--admin', ['--admin'], [ADMIN_PERMISSION]],
      ['--admin --form', ['--admin', '--form'], [ADMIN_PERMISSION]],
      ['--client-id of the admin client (secret from config)', ['--client-id', clientFor(config, true).clientId], [ADMIN_PERMISSION]],
      [
        '--client-id and --client-secret',
        ['--client-id', clientFor(config, false).clientId, '--client-secret', clientFor(config, false).clientSecret],
        [],
      ],
    ];
    for (const [name, args, permissions] of cases) {
      it(name, async (t) => {
        const { tenant, keysDir } = started;
        const result = await runToken(t, Number(new URL(tenant.url).port), keysDir, args);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `${lastLine(result.stdout)}\n`, 'only the token on stdout');
        const token = lastLine(result.stdout);
        assert.match(token, JWT);
        assert.deepEqual(await verifiedPermissions(tenant, token, config.audience), permissions);
        assert.match(result.stderr, /Access token for/);
      });
    }
  });

  describe('reports a refusal by the tenant and exits 1', { concurrency: true }, () => {
    let started: TestTenant;
    before(async () => { started = await startTestTenant(); });
    after(() => started.close());
    const config = testTenantConfig('unused');
    const cases: [string, string[], RegExp][] = [
      ['wrong secret', ['--client-id', clientFor(config, false).clientId, '--client-secret', 'wrong'], /401 access_denied.*Unauthorized/],
      ['another audience', ['--audience', 'https://other.example.com'], /403 access_denied.*not authorized to access "https:\/\/other\.example\.com"/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async (t) => {
        const result = await runToken(t, Number(new URL(started.tenant.url).port), started.keysDir, args);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, message);
      });
    }
  });

  it('a tenant that is not running: one clear line, exit 1', async (t) => {
    const port = await freePort();
    const result = await runToken(t, port, await tempKeysDir(t), []);
    assertNoTenantAnswers(result, 'token', port);
  });

  it('AUTH0_DOMAIN set: there is no dev tenant, exit 1', async (t) => {
    const result = await runToken(t, await freePort(), await tempKeysDir(t), [], {
      AUTH0_DOMAIN: 'example.us.auth0.com',
      AUTH0_AUDIENCE: 'https://hello-world.example.com',
    });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^token: AUTH0_DOMAIN is set, so there is no dev tenant/);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  });

  describe('usage mistakes exit 2 with a clear message', { concurrency: true }, () => {
    const cases: [string[], RegExp][] = [
      [['--admni'], /Unknown option '--admni'/],
      [['extra'], /positional argument/i],
      [['--client-id'], /--client-id/],
      [['--admin', '--client-id', 'x'], /either --admin or --client-id/],
      [['--client-secret', 's'], /--client-secret needs --client-id/],
      [['--client-id', 'nobody'], /client "nobody" is not in the dev tenant config/],
      [['--issuer', '2'], /--issuer must be a number from 1 to 1 \(DEV_TENANT_EXTRA_ISSUERS=0\)/],
      [['--issuer', 'two'], /--issuer must be a number/],
    ];
    for (const [args, message] of cases) {
      it(args.join(' '), async (t) => {
        const result = await runToken(t, await freePort(), await tempKeysDir(t), args);
        assert.equal(result.code, 2, result.stderr);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, message);
        assert.match(result.stderr, /Usage: npm run -s token/);
      });
    }
  });
});
