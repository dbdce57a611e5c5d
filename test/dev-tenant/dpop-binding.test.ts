import assert from 'node:assert/strict';
import { type TestContext, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type DpopClientKey, dpopClientKey, makeProof } from '../helpers/dpop.js';
import { createTokenRequestBinding } from '../../src/dev-tenant/dpop-binding.js';
import { exchangeCode, postToken, signIn } from '../helpers/sign-in.js';
import { clientFor, startTestTenant } from '../helpers/tenant.js';

/** POST /oauth/token with a DPoP proof (RFC 9449 section 5), over HTTP as a client sends it. */
async function tokenRequest(tenantUrl: string, body: Record<string, string>, proof?: string | string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const value of [proof ?? []].flat()) headers.append('dpop', value);
  const response = await fetch(`${tenantUrl}/oauth/token`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the dev tenant token endpoint with DPoP', () => {
  const setup = async (t: TestContext) => {
    const { tenant, config } = await startTestTenant({ t });
    const client = clientFor(config, false);
    const body = { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, audience: config.audience };
    const key = await dpopClientKey();
    const proof = (k: DpopClientKey = key, claims: Record<string, unknown> = {}) =>
      makeProof(k, { htm: 'POST', htu: `${tenant.url}/oauth/token`, claims });
    return { tenant, config, body, key, proof };
  };

  it('a valid proof: token_type DPoP, and a token whose cnf.jkt is the thumbprint of the proof key', async (t) => {
    const { tenant, config, body, key, proof } = await setup(t);
    const response = await tokenRequest(tenant.url, body, await proof());
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body['token_type'], 'DPoP');
    const token = String(response.body['access_token']);
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${tenant.url}/.well-known/jwks.json`)), {
      issuer: tenant.issuer, audience: config.audience,
    });
    assert.deepEqual(payload.cnf, { jkt: key.jkt });
  });

  it('no proof: a plain Bearer token without cnf', async (t) => {
    const { tenant, body } = await setup(t);
    const response = await tokenRequest(tenant.url, body);
    assert.equal(response.body['token_type'], 'Bearer');
    const [, payload = ''] = String(response.body['access_token']).split('.');
    assert.equal('cnf' in (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object), false);
  });

  const refusals: [string, (s: Awaited<ReturnType<typeof setup>>) => Promise<string | string[]>][] = [
    ['a proof for GET', (s) => makeProof(s.key, { htm: 'GET', htu: `${s.tenant.url}/oauth/token` })],
    ['a proof for another URL', (s) => makeProof(s.key, { htm: 'POST', htu: `${s.tenant.url}/authorize` })],
    ['a proof 2 minutes old', (s) => s.proof(s.key, { iat: Math.floor(Date.now() / 1000) - 120 })],
    ['a proof with typ JWT', (s) => makeProof(s.key, { htm: 'POST', htu: `${s.tenant.url}/oauth/token`, header: { typ: 'JWT' } })],
    ['two DPoP headers', async (s) => [await s.proof(), await s.proof()]],
    ['garbage', () => Promise.resolve('garbage')],
  ];
  for (const [name, makeProofFor] of refusals) {
    it(`${name}: 400 invalid_dpop_proof`, async (t) => {
      const s = await setup(t);
      const response = await tokenRequest(s.tenant.url, s.body, await makeProofFor(s));
      assert.equal(response.status, 400);
      assert.equal(response.body['error'], 'invalid_dpop_proof');
      assert.equal(typeof response.body['error_description'], 'string');
    });
  }

  it('the same proof twice: the second is refused', async (t) => {
    const { tenant, body, proof } = await setup(t);
    const once = await proof();
    assert.equal((await tokenRequest(tenant.url, body, once)).status, 200);
    const again = await tokenRequest(tenant.url, body, once);
    assert.equal(again.status, 400);
    assert.equal(again.body['error'], 'invalid_dpop_proof');
  });
});

/**
 * RFC 9449 section 5: a refresh token issued to a public client with a DPoP proof is bound to the
 * proof's key. Redeeming it needs a proof of that same key; otherwise whoever steals it (from the
 * SPA's storage) gets tokens, bound to their own key or plain Bearer ones the API takes.
 */
describe('refresh tokens of a DPoP sign-in (authorization_code with a proof)', () => {
  const setup = async (t: TestContext) => {
    const tt = await startTestTenant({ t });
    const key = await dpopClientKey();
    const proof = (k: DpopClientKey = key) => makeProof(k, { htm: 'POST', htu: `${tt.tenant.url}/oauth/token` });
    const signedIn = await signIn(tt, 'user@example.com');
    const exchanged = await exchangeCode(tt, signedIn, {}, { dpop: await proof() });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body['token_type'], 'DPoP');
    const refreshToken = String(exchanged.body['refresh_token']);
    const refresh = async (token: string, proofHeader?: string) =>
      postToken(tt, { client_id: tt.config.spa.clientId, grant_type: 'refresh_token', refresh_token: token }, proofHeader === undefined ? {} : { dpop: proofHeader });
    return { tt, key, proof, refreshToken, refresh };
  };

  it('redeemed without a proof: refused, no token of any kind', async (t) => {
    const { refreshToken, refresh } = await setup(t);
    const answer = await refresh(refreshToken);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body['error'], 'invalid_dpop_proof');
    assert.equal('access_token' in answer.body, false);
  });

  it('redeemed with a proof of another key: refused', async (t) => {
    const { refreshToken, refresh, proof } = await setup(t);
    const answer = await refresh(refreshToken, await proof(await dpopClientKey()));
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body['error'], 'invalid_dpop_proof');
    assert.equal('access_token' in answer.body, false);
  });

  it('a refused attempt does not use the token up: the holder of the key still refreshes', async (t) => {
    const { refreshToken, refresh, proof } = await setup(t);
    assert.equal((await refresh(refreshToken)).status, 400);
    const answer = await refresh(refreshToken, await proof());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('redeemed with a proof of its key: a token bound to that key, and a successor bound the same way', async (t) => {
    const { tt, key, refreshToken, refresh, proof } = await setup(t);
    const answer = await refresh(refreshToken, await proof());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body['token_type'], 'DPoP');
    const { payload } = await jwtVerify(String(answer.body['access_token']), createRemoteJWKSet(new URL(`${tt.tenant.url}/.well-known/jwks.json`)), {
      issuer: tt.tenant.issuer, audience: tt.config.audience,
    });
    assert.deepEqual(payload.cnf, { jkt: key.jkt });
    const next = String(answer.body['refresh_token']);
    assert.equal((await refresh(next)).status, 400, 'the rotated refresh token is bound too');
    assert.equal((await refresh(next, await proof())).status, 200);
  });

  it('a sign-in without a proof keeps unbound refresh tokens (Bearer clients are unchanged)', async (t) => {
    const tt = await startTestTenant({ t });
    const exchanged = await exchangeCode(tt, await signIn(tt, 'user@example.com'));
    const answer = await postToken(tt, { client_id: tt.config.spa.clientId, grant_type: 'refresh_token', refresh_token: String(exchanged.body['refresh_token']) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body['token_type'], 'Bearer');
  });
});

describe('the token endpoint replay store when full', () => {
  it('answers 503 temporarily_unavailable, not a 500, and never forgets a live proof', async () => {
    const endpoint = new URL('http://localhost:6061/oauth/token');
    const bind = createTokenRequestBinding(() => endpoint, 1);
    const key = await dpopClientKey();
    const proof = () => makeProof(key, { htm: 'POST', htu: endpoint.href });
    const record = async (value: string) => {
      const binding = await bind(value);
      assert.ok(binding.ok, JSON.stringify(binding));
      return binding.record();
    };
    const first = await proof();
    assert.equal(await record(first), undefined);
    const full = await record(await proof());
    assert.equal(full?.status, 503);
    assert.equal(full.body.error, 'temporarily_unavailable');
    assert.equal((await record(first))?.body.error, 'invalid_dpop_proof', 'the first proof is still remembered');
  });
});
