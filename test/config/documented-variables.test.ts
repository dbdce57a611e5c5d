import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EnvSchema } from '../../src/config/config.js';
import { DpopEnvSchema } from '../../src/config/dpop-config.js';
import { DevTenantEnvSchema } from '../../src/dev-tenant/config.js';

/**
 * Every variable the code accepts is documented where a new user looks: a row of README's
 * Configuration table, and a line of .env.example (set, empty, or commented out). Merged branches
 * each added variables; this keeps the docs from drifting again.
 */

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const configTable = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
const envExample = readFileSync(new URL('.env.example', root), 'utf8');

const variables = [
  ...Object.keys(EnvSchema.shape),
  ...Object.keys(DpopEnvSchema.shape),
  ...Object.keys(DevTenantEnvSchema.shape),
];

/** A table row names `X_ID` / `_SECRET` for a client's pair of variables. */
function inConfigTable(name: string): boolean {
  const pair = name.endsWith('_SECRET') ? `\`${name.replace(/_SECRET$/, '_ID')}\` / \`_SECRET\`` : null;
  return configTable.split('\n').some((line) => line.startsWith('| ') && (line.includes(`\`${name}\``) || (pair !== null && line.includes(pair))));
}

describe('documented configuration variables', () => {
  it('finds the variables and the README table', () => {
    assert.ok(variables.length > 30, String(variables.length));
    assert.ok(configTable.includes('| variable | default | meaning |'));
  });
  for (const name of variables) {
    it(`${name}: a row in README's Configuration table and a line in .env.example`, () => {
      assert.ok(inConfigTable(name), `README.md Configuration table lacks ${name}`);
      assert.match(envExample, new RegExp(`^(# )?${name}=`, 'm'), `.env.example lacks ${name}`);
    });
  }
});
