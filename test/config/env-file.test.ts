import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config.js';
import { malformedEnvLines, readEnvFile } from '../../src/config/env-file.js';
import { loadConfig } from '../../src/server-config.js';

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

describe('malformed .env lines', () => {
  const cases: [string, string, number[]][] = [
    ['a space instead of =', 'PORT 7000\n', [1]],
    ['a colon instead of =', 'HOST=localhost\nPORT: 7000\n', [2]],
    ['no key', '=7000\n', [1]],
    ['a key alone', 'LOG_LEVEL\n', [1]],
    ['comments, blanks, export and spaces around =', '# c\n\n  export PORT=1\nHOST = x\nA.B-C=2\n', []],
    ['a quoted value spanning lines', 'A="one\ntwo words\nthree"\nB 1\n', [4]],
    ['Windows line ends', 'A=1\r\nB 2\r\n', [2]],
  ];
  for (const [name, text, lines] of cases) {
    it(`${lines.length === 0 ? 'accepts' : `reports line ${lines.join(', ')} for`} ${name}`, () => {
      assert.deepEqual(malformedEnvLines(text), lines);
    });
  }

  it('loadConfig warns once per malformed line, with the file and line number, not the line itself', async () => {
    const cwd = join(dir, 'malformed');
    await mkdir(cwd);
    await writeFile(join(cwd, '.env'), 'LOG_LEVEL=debug\nAUTH0_SECRET s3cr3t\n');
    const warnings: string[] = [];
    const config = loadConfig(cwd, {}, (line) => warnings.push(line));
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(warnings, [`warning: ${join(cwd, '.env')} line 2 is not KEY=value and is ignored`]);
  });
});
