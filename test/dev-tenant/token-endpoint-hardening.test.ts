import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { dpopClientKey, makeProof } from '../helpers/dpop.js';
import { authorize, authorizeParams, exchangeCode, newVerifier, postToken, signIn, type SignedIn } from '../helpers/sign-in.js';
import { clientFor, startTestTenant, type TestTenant } from '../helpers/tenant.js';

/**
 * The dev tenant's weaknesses from the security review (issue 16 items 3, 5, 8) and RFC 8707
 * `resource` (issue 18 item 3), each over HTTP against a running tenant.
 */

const USER = 'user@example.com';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A `client_assertion` (RFC 7523) signed by a key the tenant has never seen. */
async function foreignAssertion(tt: TestTenant, clientId: string): Promise<Record<string, string>> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${tt.tenant.url}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(privateKey);
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
}

describe('DPoP proofs at /oauth/token are recorded only after the client, the grant and the binding are checked', () => {
  it('refused requests with fresh proofs do not fill the replay store: the real client still gets its token', async (t) => {
    const tt = await startTestTenant({ t, dpopReplayMaxEntries: 2 });
    const key = await dpopClientKey();
    const proof = () => makeProof(key, { htm: 'POST', htu: `${tt.tenant.url}/oauth/token` });
    const client = clientFor(tt.config, false);
    const machine = { grant_type: 'client_credentials', client_id: client.clientId, audience: tt.config.audience };
    const spa = tt.config.spa.clientId;
    // [refused request, its status]: the client, then the grant, then the binding fails.
    const refused: [Record<string, string>, number][] = [
      [{ ...machine, client_secret: 'wrong' }, 401],
      [{ grant_type: 'authorization_code', client_id: spa, code: 'made-up', code_verifier: newVerifier(), redirect_uri: tt.config.spa.callbackUrls[0] ?? '' }, 403],
      [{ grant_type: 'refresh_token', client_id: spa, refresh_token: 'made-up' }, 403],
    ];
    for (const [fields, status] of refused) {
      const answer = await postToken(tt, fields, { dpop: await proof() });
      assert.equal(answer.status, status, JSON.stringify(answer.body));
    }
    const answer = await postToken(tt, { ...machine, client_secret: client.clientSecret }, { dpop: await proof() });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body['token_type'], 'DPoP');
  });
});

describe('refresh tokens: the first refresh with a proof binds them to its key (RFC 9449 section 5)', () => {
  let tt: TestTenant;
  before(async () => {
    tt = await startTestTenant();
  });
  after(() => tt.close());

  it('a Bearer sign-in refreshed with a proof: the new refresh token needs a proof of that same key', async () => {
    const key = await dpopClientKey();
    const proof = (k = key) => makeProof(k, { htm: 'POST', htu: `${tt.tenant.url}/oauth/token` });
    const exchanged = await exchangeCode(tt, await signIn(tt, USER));
    assert.equal(exchanged.body['token_type'], 'Bearer');
    const refresh = (token: string, headers: Record<string, string> = {}) =>
      postToken(tt, { client_id: tt.config.spa.clientId, grant_type: 'refresh_token', refresh_token: token }, headers);

    const bound = await refresh(String(exchanged.body['refresh_token']), { dpop: await proof() });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(String(bound.body['access_token'])).cnf, { jkt: key.jkt });
    const next = String(bound.body['refresh_token']);

    const withoutProof = await refresh(next);
    assert.equal(withoutProof.status, 400, JSON.stringify(withoutProof.body));
    assert.equal(withoutProof.body['error'], 'invalid_dpop_proof');
    assert.equal('access_token' in withoutProof.body, false);
    const otherKey = await refresh(next, { dpop: await proof(await dpopClientKey()) });
    assert.equal(otherKey.status, 400, JSON.stringify(otherKey.body));
    const sameKey = await refresh(next, { dpop: await proof() });
    assert.equal(sameKey.status, 200, JSON.stringify(sameKey.body));
    assert.deepEqual(decodeJwt(String(sameKey.body['access_token'])).cnf, { jkt: key.jkt });
  });
});

describe('authorization codes: any redemption attempt uses the code up', () => {
  let tt: TestTenant;
  before(async () => {
    tt = await startTestTenant();
  });
  after(() => tt.close());

  // [first attempt, its status]: then the right client with the right verifier is refused too.
  const attempts: [string, (signedIn: SignedIn) => Promise<Record<string, string | undefined>>, number][] = [
    ['by a machine client with its secret', () => Promise.resolve({ client_id: clientFor(tt.config, false).clientId, client_secret: clientFor(tt.config, false).clientSecret }), 403],
    ['by the web app with its secret', () => Promise.resolve({ client_id: tt.config.web.clientId, client_secret: tt.config.web.clientSecret }), 403],
    ['by an unknown client', () => Promise.resolve({ client_id: 'evil' }), 401],
    ['without the PKCE verifier', () => Promise.resolve({ code_verifier: undefined }), 400],
    ['with a client_assertion', async () => foreignAssertion(tt, tt.config.spa.clientId), 401],
  ];
  for (const [name, changes, status] of attempts) {
    it(`${name}: ${String(status)}, and the code is gone`, async () => {
      const signedIn = await signIn(tt, USER);
      const first = await exchangeCode(tt, signedIn, await changes(signedIn));
      assert.equal(first.status, status, JSON.stringify(first.body));
      const second = await exchangeCode(tt, signedIn);
      assert.equal(second.status, 403, JSON.stringify(second.body));
      assert.equal(second.body['error'], 'invalid_grant');
    });
  }
});

describe('max_age: a session signed in longer ago signs in again', () => {
  let clock = 1_800_000_000;
  let tt: TestTenant;
  let cookie: string;
  before(async () => {
    tt = await startTestTenant({ now: () => clock });
    ({ cookie } = await signIn(tt, USER));
    clock += 120;
  });
  after(() => tt.close());

  const params = (changes: Record<string, string>) => ({ ...authorizeParams(tt, newVerifier()), ...changes });
  // [max_age and prompt, where /authorize sends the browser 120 s after the sign-in]
  const cases: [string, Record<string, string>, RegExp][] = [
    ['max_age=60', { max_age: '60' }, /^\/u\/login\?/],
    ['max_age=0', { max_age: '0' }, /^\/u\/login\?/],
    ['max_age=60 with prompt=none', { max_age: '60', prompt: 'none' }, /[?&]error=login_required/],
    ['max_age=600', { max_age: '600' }, /[?&]code=/],
    ['no max_age', {}, /[?&]code=/],
    ['max_age=soon', { max_age: 'soon' }, /[?&]error=invalid_request/],
  ];
  for (const [name, changes, location] of cases) {
    it(`${name}: ${String(location)}`, async () => {
      const answer = await authorize(tt, params(changes), cookie);
      assert.equal(answer.status, 302, answer.body);
      assert.match(answer.location ?? '', location);
    });
  }
});

describe('client authentication a client is not registered for: 401 invalid_client', () => {
  let tt: TestTenant;
  before(async () => {
    tt = await startTestTenant();
  });
  after(() => tt.close());

  const machine = () => {
    const client = clientFor(tt.config, false);
    return { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, audience: tt.config.audience };
  };
  // [case, the code exchange's changes or a whole request, headers, status, error]
  const cases: [string, () => Promise<{ fields: Record<string, string | undefined>; headers?: Record<string, string>; code?: boolean }>, number, string][] = [
    ["the SPA's code with a client_assertion (it has no key)", async () => ({ fields: await foreignAssertion(tt, tt.config.spa.clientId), code: true }), 401, 'invalid_client'],
    ["the SPA's code with a client_secret (it is public)", () => Promise.resolve({ fields: { client_secret: 'guess' }, code: true }), 401, 'invalid_client'],
    ["the SPA's code with HTTP Basic", () => Promise.resolve({ fields: {}, headers: { authorization: basic(tt.config.spa.clientId, 'guess') }, code: true }), 401, 'invalid_client'],
    [
      'a machine client with a client_assertion instead of its secret',
      async () => ({ fields: { ...machine(), client_secret: undefined, ...(await foreignAssertion(tt, clientFor(tt.config, false).clientId)) } }),
      401,
      'invalid_client',
    ],
    ['the web app without its secret', () => Promise.resolve({ fields: { client_id: tt.config.web.clientId }, code: true }), 401, 'invalid_client'],
    ['a machine client with Basic and client_secret both', () => Promise.resolve({ fields: machine(), headers: { authorization: basic(machine().client_id, machine().client_secret) } }), 400, 'invalid_request'],
    ['Basic for one client, client_id of another', () => Promise.resolve({ fields: { ...machine(), client_secret: undefined, client_id: 'other' }, headers: { authorization: basic(machine().client_id, machine().client_secret) } }), 400, 'invalid_request'],
    ['a Bearer Authorization header', () => Promise.resolve({ fields: machine(), headers: { authorization: 'Bearer x' } }), 401, 'invalid_client'],
  ];
  for (const [name, request, status, error] of cases) {
    it(`${name}: ${String(status)} ${error}`, async () => {
      const { fields, headers = {}, code = false } = await request();
      const answer = code ? await exchangeCode(tt, await signIn(tt, USER), fields, headers) : await postToken(tt, fields, headers);
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(answer.body['error'], error);
      assert.equal('access_token' in answer.body, false);
    });
  }

  it('a machine client with HTTP Basic alone: its token', async () => {
    const { client_secret: secret, ...fields } = machine();
    const answer = await postToken(tt, fields, { authorization: basic(fields.client_id, secret) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });
});

describe('RFC 8707 resource wherever audience is', () => {
  let tt: TestTenant;
  before(async () => {
    tt = await startTestTenant();
  });
  after(() => tt.close());

  const machine = (changes: Record<string, string | undefined>) => {
    const client = clientFor(tt.config, false);
    return { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, audience: undefined, ...changes };
  };
  // [case, body, status, error or the token's aud]
  const cases: [string, () => Record<string, string | undefined>, number, string][] = [
    ['resource = the API identifier', () => machine({ resource: tt.config.audience }), 200, 'aud'],
    ["resource = the API's own origin (its RFC 9728 resource)", () => machine({ resource: tt.config.resourceAliases[0] }), 200, 'aud'],
    ['audience and resource naming the same API', () => machine({ resource: tt.config.audience, audience: tt.config.audience }), 200, 'aud'],
    ['audience and resource naming different APIs', () => machine({ resource: 'https://other.example.com', audience: tt.config.audience }), 400, 'invalid_request'],
    ['resource of another API: the audience checks', () => machine({ resource: 'https://other.example.com' }), 403, 'access_denied'],
  ];
  for (const [name, body, status, expected] of cases) {
    it(`${name}: ${String(status)}`, async () => {
      const answer = await postToken(tt, body());
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      if (status === 200) assert.equal(decodeJwt(String(answer.body['access_token'])).aud, tt.config.audience);
      else assert.equal(answer.body['error'], expected);
    });
  }

  it('two resource values: 400 (the tenant has one API)', async () => {
    const client = clientFor(tt.config, false);
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    body.append('resource', tt.config.audience);
    body.append('resource', 'https://other.example.com');
    const response = await fetch(`${tt.tenant.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(response.status, 400);
  });

  it('/authorize with resource: a code whose access token is for the API', async () => {
    const signedIn = await signIn(tt, USER, { params: { audience: undefined, resource: tt.config.audience } });
    const exchanged = await exchangeCode(tt, signedIn);
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.ok([decodeJwt(String(exchanged.body['access_token'])).aud].flat().includes(tt.config.audience));
  });

  it('/authorize with audience and a different resource: a 400 page, no redirect', async () => {
    const answer = await authorize(tt, { ...authorizeParams(tt, newVerifier()), resource: 'https://other.example.com' });
    assert.equal(answer.status, 400);
    assert.equal(answer.location, null);
    assert.match(answer.body, /audience .* and resource .* name different APIs/);
  });
});
