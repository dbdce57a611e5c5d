import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { describe, it, type TestContext } from 'node:test';
import { loadOrCreateSigningKeys, signingKeysFilePath } from '../../src/dev-tenant/signing-keys.js';
import { childEnv, type RunResult, runTsScript } from './helpers.js';
import { startTestTenant, tempKeysDir } from '../helpers/tenant.js';

const SCRIPT = 'src/dev-tenant/cli/rotate-key.ts';

async function runRotate(t: TestContext, keysDir: string, args: readonly string[] = []): Promise<RunResult> {
  const cwd = await tempKeysDir(t);
  return runTsScript(SCRIPT, args, { env: childEnv({ DEV_TENANT_KEYS_DIR: keysDir }), cwd });
}

async function jwksKids(url: string): Promise<string[]> {
  const response = await fetch(`${url}/.well-known/jwks.json`);
  const body = (await response.json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid);
}

describe('npm run dev-tenant:rotate-key', () => {
  it('rotates the key of a running tenant, which serves the new key first', async (t) => {
    const { tenant, keysDir } = await startTestTenant({ t });
    const before = await loadOrCreateSigningKeys(keysDir);

    const result = await runRotate(t, keysDir);
    assert.equal(result.code, 0, result.stderr);
    const newKid = /new kid:\s+(\S+)/.exec(result.stdout)?.[1];
    assert.ok(newKid !== undefined, result.stdout);
    assert.notEqual(newKid, before.current.kid);
    assert.match(result.stdout, new RegExp(`previous kid:\\s+${before.current.kid}\\s+\\(still published for 24 h\\)`));
    assert.ok(result.stdout.includes(signingKeysFilePath(keysDir)));
    assert.match(result.stdout, /no restart needed/);

    const after = await loadOrCreateSigningKeys(keysDir);
    assert.deepEqual(after.all.map((key) => key.kid), [newKid, before.current.kid]);
    assert.deepEqual(await jwksKids(tenant.url), [newKid, before.current.kid]);
  });

  it('a corrupt keys file: the error names the file, no stack trace, exit 1', async (t) => {
    const keysDir = await tempKeysDir(t);
    await writeFile(signingKeysFilePath(keysDir), '{"version":1,');
    const result = await runRotate(t, keysDir);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.includes(signingKeysFilePath(keysDir)), result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  });

  it('an unknown flag exits 2', async (t) => {
    const result = await runRotate(t, await tempKeysDir(t), ['--force']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown option '--force'/);
  });
});
