import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyObject } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import { type Config, authConfigFor } from '../../src/config/config.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import type { TokenCheck } from '../../src/errors/http-errors.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';
import { signJson } from '../security/helpers.js';

/**
 * Every refused token is logged with the check that refused it (a closed set, also what metrics
 * count), and for iss/aud with the expected and received values; the body stays "Bad credentials".
 */

let tenant: TestTenant;
before(async () => { tenant = await startTestTenant(); });
after(() => tenant.close());

interface RefusalCase {
  readonly name: string;
  readonly check: TokenCheck;
  readonly token: (t: TestTenant) => Promise<string>;
  /** Fields the log line must carry, beyond `check`. */
  readonly logged?: (t: TestTenant) => Record<string, unknown>;
  /** Config of the API, beyond the defaults (one issuer: the tenant; RS256). */
  readonly config?: (t: TestTenant) => Partial<Config>;
}

const now = () => Math.floor(Date.now() / 1000);
/** Changes one signature character that carries whole bits (not the last, whose low bits are padding). */
const flipSignature = (token: string) => `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.slice(-1)}`;

/** A token signed PS256 with the tenant's RSA key, whose JWK the tenant publishes with alg RS256. */
async function signedPs256(t: TestTenant): Promise<string> {
  const { current } = await loadOrCreateSigningKeys(t.keysDir);
  const header = { alg: 'PS256', typ: 'JWT', kid: current.kid };
  return signJson(header, { iss: t.tenant.issuer, aud: 'https://hello-world.example.com', exp: now() + 600 }, KeyObject.from(current.privateKey), 'PS256');
}
const bothAlgorithms = (t: TestTenant): Partial<Config> => ({
  auth: authConfigFor(t.tenant.url, 'https://hello-world.example.com', ['RS256', 'PS256']),
});

const CASES: readonly RefusalCase[] = [
  { name: 'not a JWT', check: 'format', token: () => Promise.resolve('abc.def.ghi') },
  { name: 'a header that carries a key', check: 'header', token: (t) => t.sign({}, { jku: 'http://127.0.0.1:1/keys' }) },
  { name: 'a typ that is not JWT', check: 'header', token: (t) => t.sign({}, { typ: 'dpop+jwt' }) },
  { name: 'no kid', check: 'kid', token: (t) => t.sign({}, { kid: undefined }) },
  { name: 'a kid the JWKS does not have', check: 'kid', token: (t) => t.sign({}, { kid: 'not-there' }), logged: () => ({ received: 'not-there' }) },
  { name: 'a bad signature', check: 'signature', token: async (t) => flipSignature(await t.sign()) },
  { name: 'expired', check: 'expired', token: (t) => t.sign({ exp: now() - 60 }), logged: () => ({ claim: 'exp' }) },
  { name: 'not yet valid', check: 'not_before', token: (t) => t.sign({ nbf: now() + 600 }), logged: () => ({ claim: 'nbf' }) },
  {
    name: 'another issuer',
    check: 'issuer',
    token: (t) => t.sign({ iss: 'https://other.example.com/' }),
    logged: (t) => ({ claim: 'iss', expected: t.tenant.issuer, received: 'https://other.example.com/' }),
  },
  {
    name: 'another audience',
    check: 'audience',
    token: (t) => t.sign({ aud: 'https://other-api.example.com' }),
    logged: () => ({ claim: 'aud', expected: 'https://hello-world.example.com', received: 'https://other-api.example.com' }),
  },
  { name: 'no exp', check: 'claims', token: (t) => t.sign({ exp: undefined }), logged: () => ({ claim: 'exp' }) },
  {
    name: 'an iss that is not a string',
    check: 'issuer',
    token: (t) => t.sign({ iss: [t.tenant.issuer] }),
    logged: (t) => ({ claim: 'iss', expected: t.tenant.issuer, received: '(object)' }),
  },
  {
    name: 'an issuer outside a list of several',
    check: 'issuer',
    token: (t) => t.sign({ iss: 'https://other.example.com/' }),
    config: (t) => ({ auth: authConfigFor([t.tenant.url, 'https://login.example.com'], 'https://hello-world.example.com') }),
    logged: (t) => ({ expected: [t.tenant.issuer, 'https://login.example.com/'], received: 'https://other.example.com/' }),
  },
  { name: 'an alg not in AUTH0_SIGNING_ALGS', check: 'algorithm', token: signedPs256 },
  {
    name: 'an allowed alg the named key is not published for',
    check: 'algorithm',
    token: signedPs256,
    config: bothAlgorithms,
    logged: (t) => ({ issuer: t.tenant.issuer, received: 'PS256' }),
  },
];

describe('token refusals name the failed check in the log', () => {
  for (const refusal of CASES) {
    it(`${refusal.name}: check "${refusal.check}"`, async () => {
      const lines: string[] = [];
      const app = await buildApp(apiConfigFor(tenant.tenant.url, { logLevel: 'info', ...refusal.config?.(tenant) }), {
        logStream: { write: (line) => lines.push(line) },
      });
      const token = await refusal.token(tenant);
      const response = await app.inject({ url: '/api/messages/protected', headers: { authorization: `Bearer ${token}` } });
      await app.close();

      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), { message: 'Bad credentials' });
      const entry = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((candidate) => candidate['msg'] === 'access token refused');
      assert.ok(entry, 'the refusal is logged');
      assert.equal(entry['check'], refusal.check);
      for (const [field, value] of Object.entries(refusal.logged?.(tenant) ?? {})) {
        assert.deepEqual(entry[field], value, `log field ${field}`);
      }
      const signature = token.split('.')[2] ?? '';
      if (signature !== '') assert.ok(!lines.join('').includes(signature), 'the token stays out of the log');
    });
  }
});
