import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config.js';
import { loadConfig, readEnvFile } from '../../src/config/env-file.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hello-api-env-')); });
after(() => rm(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('reads .env and lets real environment variables win', async () => {
    const cwd = join(dir, 'app');
    await mkdir(cwd);
    await writeFile(join(cwd, '.env'), 'PORT=7001\nLOG_LEVEL=debug\n# a comment\nAUTH0_DOMAIN=\n');
    const config = loadConfig(cwd, { LOG_LEVEL: 'warn' });
    assert.equal(config.port, 7001);
    assert.equal(config.logLevel, 'warn');
    assert.ok(config.devTenant);
  });

  it('works without a .env file', () => {
    assert.deepEqual(readEnvFile(join(dir, 'missing', '.env')), {});
  });

  it('refuses an unreadable .env with one line naming it', async () => {
    const cwd = join(dir, 'bad');
    await mkdir(join(cwd, '.env'), { recursive: true }); // a folder where the file should be
    assert.throws(() => loadConfig(cwd, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /\.env cannot be read \(EISDIR\)/);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  });
});
