import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAuthorizationRequest } from '../../src/dev-tenant/authorization-request.js';
import { testTenantConfig } from '../helpers/tenant.js';

const config = testTenantConfig('unused');
const CALLBACK = 'http://localhost:4040/callback';

/** What auth0-spa-js sends for loginWithRedirect (see shared notes). */
const VALID: Readonly<Record<string, string>> = {
  client_id: 'hello-world-spa',
  scope: 'openid profile email offline_access',
  audience: 'https://hello-world.example.com',
  redirect_uri: CALLBACK,
  response_type: 'code',
  response_mode: 'query',
  state: 'c3RhdGU+/=',
  nonce: 'bm9uY2U',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
  auth0Client: 'eyJuYW1lIjoiYXV0aDAtcmVhY3QifQ==',
};

type Expected = { page: RegExp } | { callback: string; description: RegExp };

/** [case, parameters changed (undefined removes one), expected refusal] */
const REFUSALS: [string, Record<string, string | string[] | undefined>, Expected][] = [
  ['no client_id', { client_id: undefined }, { page: /client_id/ }],
  ['an unknown client', { client_id: 'someone-else' }, { page: /Unknown client: someone-else/ }],
  ['a machine client', { client_id: 'hello-world-client' }, { page: /Unknown client/ }],
  ['a repeated client_id', { client_id: ['hello-world-spa', 'hello-world-spa'] }, { page: /client_id/ }],
  ['no redirect_uri', { redirect_uri: undefined }, { page: /redirect_uri/ }],
  ['a redirect_uri not allowed', { redirect_uri: 'https://evil.example.com/callback' }, { page: /Callback URL mismatch/ }],
  ['a redirect_uri that only starts like an allowed one', { redirect_uri: `${CALLBACK}/../../evil` }, { page: /Callback URL mismatch/ }],
  ['a redirect_uri with an extra query', { redirect_uri: `${CALLBACK}?next=https://evil.example.com` }, { page: /Callback URL mismatch/ }],
  ['a redirect_uri differing in case', { redirect_uri: CALLBACK.toUpperCase() }, { page: /Callback URL mismatch/ }],
  ['a redirect_uri with a trailing slash', { redirect_uri: `${CALLBACK}/` }, { page: /Callback URL mismatch/ }],
  ['an unknown response_mode', { response_mode: 'form_post' }, { page: /response_mode/ }],
  ['response_mode=fragment', { response_mode: 'fragment' }, { page: /response_mode/ }],
  ['the implicit flow (token)', { response_type: 'token' }, { callback: 'unsupported_response_type', description: /token/ }],
  ['the implicit flow (id_token token)', { response_type: 'id_token token' }, { callback: 'unsupported_response_type', description: /only "code"/ }],
  ['the hybrid flow', { response_type: 'code id_token' }, { callback: 'unsupported_response_type', description: /code id_token/ }],
  ['no response_type', { response_type: undefined }, { callback: 'invalid_request', description: /response_type/ }],
  ['no PKCE challenge', { code_challenge: undefined }, { callback: 'invalid_request', description: /code_challenge.*PKCE/ }],
  ['no PKCE method', { code_challenge_method: undefined }, { callback: 'invalid_request', description: /S256, got none/ }],
  ['PKCE method plain', { code_challenge_method: 'plain' }, { callback: 'invalid_request', description: /S256, got plain/ }],
  ['a challenge that is no SHA-256 digest', { code_challenge: 'short' }, { callback: 'invalid_request', description: /base64url/ }],
  ['an unknown audience', { audience: 'https://other.example.com' }, { callback: 'access_denied', description: /Service not found: https:\/\/other\.example\.com/ }],
  ['an unknown prompt', { prompt: 'everything' }, { callback: 'invalid_request', description: /prompt/ }],
];

function query(changes: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const merged: Record<string, string | string[] | undefined> = { ...VALID, ...changes };
  return Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined));
}

describe('authorization request checks', () => {
  it('accept what the SPA SDK sends', () => {
    const check = checkAuthorizationRequest(query({}), config);
    assert.deepEqual(check, {
      ok: true,
      request: {
        clientId: 'hello-world-spa',
        redirectUri: CALLBACK,
        responseMode: 'query',
        state: VALID.state,
        nonce: VALID.nonce,
        scope: ['openid', 'profile', 'email', 'offline_access'],
        audience: 'https://hello-world.example.com',
        codeChallenge: VALID.code_challenge,
        prompt: undefined,
        maxAge: undefined,
        screenHint: undefined,
      },
    });
  });

  // [case, parameters changed, what the request then says]
  const accepted: [string, Record<string, string | undefined>, Record<string, unknown>][] = [
    ['silent authentication', { prompt: 'none', response_mode: 'web_message' }, { prompt: 'none', responseMode: 'web_message' }],
    ['Log In button', { prompt: 'login' }, { prompt: 'login' }],
    ['Sign Up button', { screen_hint: 'signup' }, { screenHint: 'signup' }],
    ['no audience (the default audience)', { audience: undefined }, { audience: 'https://hello-world.example.com' }],
    ['unknown scopes, dropped', { scope: 'openid read:everything email' }, { scope: ['openid', 'email'] }],
    ['no state', { state: undefined }, { state: undefined }],
    ['no response_mode (query)', { response_mode: undefined }, { responseMode: 'query' }],
  ];
  for (const [name, changes, expected] of accepted) {
    it(`accept ${name}`, () => {
      const check = checkAuthorizationRequest(query(changes), config);
      assert.ok(check.ok, JSON.stringify(check));
      const fields: Record<string, unknown> = { ...check.request };
      for (const [field, value] of Object.entries(expected)) assert.deepEqual(fields[field], value, field);
    });
  }

  for (const [name, changes, expected] of REFUSALS) {
    it(`refuse ${name}`, () => {
      const check = checkAuthorizationRequest(query(changes), config);
      assert.equal(check.ok, false);
      if ('page' in expected) {
        assert.equal(check.kind, 'page', 'shown on the tenant, never redirected');
        assert.match(check.message, expected.page);
      } else {
        assert.equal(check.kind, 'callback');
        assert.deepEqual(check.destination, { redirectUri: CALLBACK, responseMode: 'query', state: VALID.state });
        assert.equal(check.error, expected.callback);
        assert.match(check.description, expected.description);
      }
    });
  }

  it('refuse web_message to an origin that is not an allowed web origin, without any message', () => {
    const other = { ...config, spa: { ...config.spa, callbackUrls: [...config.spa.callbackUrls, 'http://localhost:5050/cb'] } };
    const check = checkAuthorizationRequest(query({ redirect_uri: 'http://localhost:5050/cb', response_mode: 'web_message' }), other);
    assert.equal(check.ok, false);
    assert.equal(check.kind, 'page');
    assert.match(check.message, /http:\/\/localhost:5050 is not in the list of Allowed Web Origins/);
  });
});
