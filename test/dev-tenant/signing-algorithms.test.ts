import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { requestedSigningAlg } from '../../src/dev-tenant/signing-algorithms.js';
import { TokenRequestError, requestToken } from '../../src/dev-tenant/tenant.js';
import { clientFor, startTestTenant } from '../helpers/tenant.js';

describe('requestedSigningAlg (the dev-only signing_alg parameter)', () => {
  const rows: [string, unknown, readonly ('RS256' | 'PS256')[], string | RegExp][] = [
    ['absent: RS256', {}, ['RS256'], 'RS256'],
    ['empty: RS256', { signing_alg: '' }, ['RS256', 'PS256'], 'RS256'],
    ['PS256 when the tenant has a PS256 key', { signing_alg: 'PS256' }, ['RS256', 'PS256'], 'PS256'],
    ['PS256 when it has not', { signing_alg: 'PS256' }, ['RS256'], /not Auth0's.*AUTH0_SIGNING_ALGS=RS256,PS256/],
    ['HS256', { signing_alg: 'HS256' }, ['RS256', 'PS256'], /must be one of RS256, PS256/],
    ['a number', { signing_alg: 256 }, ['RS256'], /must be one of RS256/],
  ];
  for (const [name, body, available, expected] of rows) {
    it(name, () => {
      const choice = requestedSigningAlg(body, available);
      if (typeof expected === 'string') {
        assert.deepEqual(choice, { ok: true, alg: expected });
      } else {
        assert.ok(!choice.ok);
        assert.equal(choice.error.status, 400);
        assert.equal(choice.error.body.error, 'invalid_request');
        assert.match(choice.error.body.error_description, expected);
      }
    });
  }
});

describe('a dev tenant that signs PS256 too', () => {
  it('publishes a PS256 key with alg PS256 beside the RS256 key, and signs with it when asked', async (t) => {
    const { tenant, config } = await startTestTenant({ t, config: { signingAlgorithms: ['RS256', 'PS256'] } });
    const jwks = (await (await fetch(`${tenant.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
    assert.deepEqual(jwks.keys.map((key) => key.alg), ['RS256', 'PS256']);
    assert.notEqual(jwks.keys[0]?.kid, jwks.keys[1]?.kid);

    const client = clientFor(config, false);
    const credentials = { clientId: client.clientId, clientSecret: client.clientSecret, audience: config.audience };
    const keys = createRemoteJWKSet(new URL(`${tenant.url}/.well-known/jwks.json`));
    for (const alg of ['RS256', 'PS256'] as const) {
      const { access_token: token } = await requestToken(tenant.url, credentials, 'json', { signingAlg: alg });
      const header = decodeProtectedHeader(token);
      assert.equal(header.alg, alg);
      assert.equal(header.kid, jwks.keys.find((key) => key.alg === alg)?.kid);
      await jwtVerify(token, keys, { issuer: tenant.issuer, audience: config.audience, algorithms: [alg] });
    }
    const form = await requestToken(tenant.url, credentials, 'form', { signingAlg: 'PS256' });
    assert.equal(decodeProtectedHeader(form.access_token).alg, 'PS256');
  });

  it('by default publishes RS256 only and refuses a PS256 request with 400', async (t) => {
    const { tenant, config } = await startTestTenant({ t });
    const jwks = (await (await fetch(`${tenant.url}/.well-known/jwks.json`)).json()) as { keys: { alg: string }[] };
    assert.deepEqual(jwks.keys.map((key) => key.alg), ['RS256']);
    const client = clientFor(config, false);
    await assert.rejects(
      requestToken(tenant.url, { clientId: client.clientId, clientSecret: client.clientSecret, audience: config.audience }, 'json', { signingAlg: 'PS256' }),
      (error: unknown) => error instanceof TokenRequestError && error.status === 400 && /not Auth0's/.test(error.errorDescription),
    );
  });
});
