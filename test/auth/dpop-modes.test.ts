import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dpopChallenge, resourceMetadata } from '../helpers/dpop.js';
import { API_ORIGIN, type DpopHarness, PROTECTED, startDpopHarness } from '../helpers/dpop-harness.js';

const DPOP_CHALLENGE = dpopChallenge(API_ORIGIN);
const METADATA = resourceMetadata(API_ORIGIN);

/** The three DPOP modes and server nonces, through the real app, tenant and tokens. */
const bearer = (h: DpopHarness, token: string) =>
  h.app.inject({ method: 'GET', url: PROTECTED, headers: { authorization: `Bearer ${token}` } });

describe('DPOP=allowed (default)', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness(); });
  after(() => h.close());

  it('an unbound token as Bearer: 200', async () => {
    assert.equal((await bearer(h, await h.tenant.token('user'))).statusCode, 200);
  });
  it('a bound token with DPoP: 200, and no DPoP-Nonce without nonces', async () => {
    const response = await h.dpop(h.userToken, await h.proof(h.userToken));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['dpop-nonce'], undefined);
  });
  it('no credentials: both challenges, bare', async () => {
    const response = await h.app.inject({ method: 'GET', url: PROTECTED });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", ${METADATA}, ${DPOP_CHALLENGE}`);
  });
  it('a bound token as Bearer: invalid_token on the Bearer challenge, DPoP offered', async () => {
    const response = await bearer(h, h.userToken);
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", ${METADATA}, ${DPOP_CHALLENGE}`);
  });
  it('a bad token with DPoP: invalid_token on the DPoP challenge', async () => {
    const token = await h.tenant.sign({ cnf: { jkt: h.key.jkt }, exp: Math.floor(Date.now() / 1000) - 60 });
    const response = await h.dpop(token, await h.proof(token));
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", ${METADATA}, DPoP realm="api", error="invalid_token", ${DPOP_CHALLENGE.slice(18)}`);
  });
});

describe('DPOP=required', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness({ mode: 'required' }); });
  after(() => h.close());

  it('an unbound token as Bearer: 401 with only the DPoP challenge', async () => {
    const response = await bearer(h, await h.tenant.token('user'));
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { message: 'Requires authentication' });
    assert.equal(response.headers['www-authenticate'], DPOP_CHALLENGE);
  });
  it('a bound token with DPoP: 200', async () => {
    assert.equal((await h.dpop(h.userToken, await h.proof(h.userToken))).statusCode, 200);
  });
  it('a bad proof: only the DPoP challenge, with invalid_dpop_proof', async () => {
    const response = await h.dpop(h.userToken, await h.proof(h.userToken, PROTECTED, { claims: { htm: 'POST' } }));
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `DPoP realm="api", error="invalid_dpop_proof", ${DPOP_CHALLENGE.slice(18)}`);
  });
});

describe('DPOP=disabled', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness({ mode: 'disabled' }); });
  after(() => h.close());

  it('the DPoP scheme, even with a valid proof: 401 with only the Bearer challenge', async () => {
    const response = await h.dpop(h.userToken, await h.proof(h.userToken));
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", ${METADATA}`);
  });
  it('a bound token is still never accepted as Bearer', async () => {
    const response = await bearer(h, h.userToken);
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", ${METADATA}`);
  });
  it('an unbound token as Bearer: 200', async () => {
    assert.equal((await bearer(h, await h.tenant.token('user'))).statusCode, 200);
  });
});

describe('DPOP_NONCE=required', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness({ nonceSecret: 'a-test-secret-of-at-least-32-characters' }); });
  after(() => h.close());

  it('a proof without a nonce: 401 use_dpop_nonce with a DPoP-Nonce; the retry with it: 200 and a nonce', async () => {
    const first = await h.dpop(h.userToken, await h.proof(h.userToken));
    assert.equal(first.statusCode, 401);
    assert.deepEqual(first.json(), { message: 'Bad credentials' });
    assert.match(String(first.headers['www-authenticate']), /DPoP realm="api", error="use_dpop_nonce", algs="/);
    const nonce = first.headers['dpop-nonce'];
    assert.ok(typeof nonce === 'string' && /^[\w-]{43}$/.test(nonce), `nonce ${String(nonce)}`);
    const retry = await h.dpop(h.userToken, await h.proof(h.userToken, PROTECTED, { nonce }));
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal(retry.headers['dpop-nonce'], nonce);
  });
  it('a nonce this server did not issue: 401 use_dpop_nonce with the current one', async () => {
    const response = await h.dpop(h.userToken, await h.proof(h.userToken, PROTECTED, { nonce: 'made-up' }));
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['www-authenticate']), /error="use_dpop_nonce"/);
    assert.equal(typeof response.headers['dpop-nonce'], 'string');
  });
  it('Bearer requests need no nonce', async () => {
    assert.equal((await bearer(h, await h.tenant.token('user'))).statusCode, 200);
  });
});
