import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MessageKind, messageBody } from '../../src/messages/messages.js';
import { type ServerProcess, freePort, startServerProcess } from '../helpers/server-process.js';
import { tempKeysDir } from '../helpers/tenant.js';
import { assertNoTenantAnswers, childEnv, type RunResult, runTsScript } from './helpers.js';

const SCRIPT = 'src/dev-tenant/cli/call.ts';
const BANNER_END = /Call the API:[\s\S]*={78}/;

/**
 * `npm run call` against a real server process (API + dev tenant, as `npm start` runs it), with
 * the same environment as the server, from an empty directory so no `.env` leaks in.
 */
interface Running {
  readonly server: ServerProcess;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

async function startServer(extra: Record<string, string> = {}): Promise<Running> {
  const keysDir = await mkdtemp(join(tmpdir(), 'hello-api-call-'));
  const env = { PORT: String(await freePort()), DEV_TENANT_PORT: String(await freePort()), DEV_TENANT_KEYS_DIR: keysDir, LOG_LEVEL: 'warn', ...extra };
  const server = await startServerProcess(env);
  await server.waitFor(({ stderr }) => BANNER_END.test(stderr));
  return {
    server,
    env,
    async stop() {
      await server.stop();
      await rm(keysDir, { recursive: true, force: true });
    },
  };
}

async function call(t: Parameters<typeof tempKeysDir>[0], running: Running, args: readonly string[]): Promise<RunResult> {
  return runTsScript(SCRIPT, args, { env: childEnv(running.env), cwd: await tempKeysDir(t) });
}

const body = (message: string) => `${JSON.stringify({ message })}\n`;
const ok = (kind: MessageKind) => `${JSON.stringify(messageBody(kind))}\n`;

describe('npm run call (DPOP=allowed, no nonces)', () => {
  let running: Running;
  before(async () => { running = await startServer(); });
  after(() => running.stop());

  const rows: [string, string[], number, string][] = [
    ['--admin --dpop on /admin: a DPoP call end to end', ['/api/messages/admin', '--admin', '--dpop'], 200, ok('admin')],
    ['--dpop on /protected', ['/api/messages/protected', '--dpop'], 200, ok('protected')],
    ['--dpop on /admin without the permission', ['/api/messages/admin', '--dpop'], 403, body('Permission denied')],
    ['--admin (Bearer) on /admin', ['/api/messages/admin', '--admin'], 200, ok('admin')],
  ];
  for (const [name, args, status, expected] of rows) {
    it(`${name}: prints ${String(status)} and the body`, async (t) => {
      const result = await call(t, running, args);
      assert.equal(result.stdout, `${String(status)}\n${expected}`, result.stderr);
      assert.equal(result.code, status === 200 ? 0 : 1);
      assert.match(result.stderr, args.includes('--dpop') ? /^DPoP token for/ : /^Bearer token for/);
    });
  }

  it('usage mistakes exit 2', async (t) => {
    const result = await call(t, running, ['--dpop']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /give exactly one path/);
  });
});

describe('npm run call against DPOP=required with server nonces', () => {
  let running: Running;
  before(async () => {
    running = await startServer({ DPOP: 'required', DPOP_NONCE: 'required', DPOP_NONCE_SECRET: 'a-test-secret-of-at-least-32-characters' });
  });
  after(() => running.stop());

  it('--admin --dpop: retries once with the nonce the API asks for, then 200', async (t) => {
    const result = await call(t, running, ['/api/messages/admin', '--admin', '--dpop']);
    assert.equal(result.stdout, `200\n${ok('admin')}`, result.stderr);
    assert.match(result.stderr, /asked for a DPoP nonce; retrying/);
  });

  it('--admin without --dpop: Bearer is refused, 401', async (t) => {
    const result = await call(t, running, ['/api/messages/admin', '--admin']);
    assert.equal(result.stdout, `401\n${body('Requires authentication')}`);
    assert.equal(result.code, 1);
  });
});

describe('npm run call with nothing running', () => {
  it('names the port variable to set when no dev tenant answers: one line, exit 1', async (t) => {
    const tenantPort = await freePort();
    const env = { PORT: String(await freePort()), DEV_TENANT_PORT: String(tenantPort), DEV_TENANT_KEYS_DIR: await tempKeysDir(t) };
    const result = await runTsScript(SCRIPT, ['/api/messages/public'], { env: childEnv(env), cwd: await tempKeysDir(t) });
    assertNoTenantAnswers(result, 'call', tenantPort);
  });
});
