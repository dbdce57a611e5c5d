import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseConfig } from '../src/server-config.js';
import { devTenantCurlCommands } from '../src/dev-tenant/banner.js';
import { messageBody } from '../src/messages/messages.js';
import { copyBuild } from './helpers/build.js';
import { freePort, startServerProcess } from './helpers/server-process.js';

const run = promisify(execFile);

// What production runs: the bundle `npm run build` makes, started from a folder with no
// node_modules anywhere above it, so a missing or unbundled dependency shows here.
let outdir: string;
before(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'hello-api-build-'));
  await copyBuild(outdir);
});
after(() => rm(outdir, { recursive: true, force: true }));

describe('the production build', () => {
  it('is one self-contained file with a source map', () => {
    assert.ok(existsSync(join(outdir, 'server.js')));
    assert.ok(existsSync(join(outdir, 'server.js.map')));
    assert.ok(!existsSync(join(outdir, '..', 'node_modules')));
  });

  it('serves all three endpoints with dev tenant tokens and stops cleanly', async () => {
    const env = {
      PORT: String(await freePort()),
      DEV_TENANT_PORT: String(await freePort()),
      DEV_TENANT_KEYS_DIR: join(outdir, 'keys'),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const server = await startServerProcess(env, join(outdir, 'server.js'));
    try {
      await server.waitFor(({ stderr }) => /Call the API:[\s\S]*={78}/.test(stderr));
      const devTenant = parseConfig(env).devTenant;
      assert.ok(devTenant);
      const commands = devTenantCurlCommands({ apiUrl: `http://127.0.0.1:${env.PORT}`, tenantUrl: devTenant.url, config: devTenant });
      const script = [commands.callPublic, commands.fetchToken, commands.callProtected, commands.callAdmin, commands.fetchAdminToken, commands.callAdmin].join('\n');
      const { stdout } = await run('bash', ['-c', script], { timeout: 60_000 });
      assert.deepEqual(stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown), [
        messageBody('public'),
        messageBody('protected'),
        { message: 'Permission denied' },
        messageBody('admin'),
      ]);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
  });
});
