import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type Client, custom, errors, generators, Issuer } from 'openid-client';
import { ADMIN_PERMISSION } from '../../src/auth/permissions.js';
import { authorize, cookiePair, getTenant, submitLogin } from '../helpers/sign-in.js';
import { startTestTenant, type TestTenant } from '../helpers/tenant.js';

/**
 * The regular web app client as Auth0's Next.js Hello World uses it: nextjs-auth0 v3 is built on
 * openid-client v5, so this is the real library, over HTTP: discovery, authorization code with
 * PKCE through the login page, the code redeemed with client_secret_basic, the ID token validated
 * against the tenant's JWKS, refresh, userinfo and RP-initiated logout.
 */

// The default is 3.5 s; this machine is shared and loaded, and tests must not depend on its speed.
custom.setHttpOptionsDefaults({ timeout: 30_000 });

const ADMIN = 'admin@example.com';
/** CLIENT_ORIGIN_URL's default: where the Next.js sample runs. */
const APP = 'http://localhost:4040';

type AuthMethod = 'client_secret_basic' | 'client_secret_post';

async function webClient(tt: TestTenant, method: AuthMethod = 'client_secret_basic', secret = tt.config.web.clientSecret): Promise<Client> {
  const issuer = await Issuer.discover(tt.tenant.url);
  return new issuer.Client({
    client_id: tt.config.web.clientId,
    client_secret: secret,
    redirect_uris: [...tt.config.web.callbackUrls],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    id_token_signed_response_alg: 'RS256',
  });
}

interface Login {
  readonly callbackUrl: string;
  readonly checks: { code_verifier: string; nonce: string; state: string };
  /** The tenant's session cookie. */
  readonly cookie: string;
}

/**
 * nextjs-auth0's /api/auth/login, then the login page, up to the callback it redirects to.
 * `apiParam` names the API: Auth0's `audience` (what nextjs-auth0 sends) or RFC 8707's `resource`.
 */
async function logIn(tt: TestTenant, client: Client, apiParam: 'audience' | 'resource' = 'audience'): Promise<Login> {
  const checks = { code_verifier: generators.codeVerifier(), nonce: generators.nonce(), state: generators.state() };
  const url = new URL(
    client.authorizationUrl({
      scope: 'openid profile email offline_access',
      [apiParam]: tt.config.audience,
      code_challenge: generators.codeChallenge(checks.code_verifier),
      code_challenge_method: 'S256',
      nonce: checks.nonce,
      state: checks.state,
    }),
  );
  const started = await authorize(tt, Object.fromEntries(url.searchParams));
  assert.equal(started.status, 302, started.body);
  const done = await submitLogin(tt, started.location ?? '', ADMIN);
  assert.equal(done.status, 302, done.body);
  return { callbackUrl: done.location ?? '', checks, cookie: cookiePair(done.setCookie) };
}

const redirectUri = (tt: TestTenant) => tt.config.web.callbackUrls[0] ?? '';

describe('the regular web app client with openid-client (nextjs-auth0 v3)', () => {
  // One tenant for the cases that need no settings of their own: starting one costs a key pair.
  let tt: TestTenant;
  before(async () => {
    tt = await startTestTenant();
  });
  after(() => tt.close());

  it('signs in with client_secret_basic: a validated RS256 ID token and an access token for the API', async () => {
    const client = await webClient(tt);
    const { callbackUrl, checks } = await logIn(tt, client);
    const tokens = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    // callback() has checked the ID token: RS256 signature from the JWKS, iss, aud, nonce, exp, iat.
    const claims = tokens.claims();
    assert.equal(claims.iss, tt.tenant.issuer);
    assert.equal(claims.aud, tt.config.web.clientId);
    assert.equal(claims.email, ADMIN);
    const { payload } = await jwtVerify(String(tokens.access_token), createRemoteJWKSet(new URL(`${tt.tenant.url}/.well-known/jwks.json`)), {
      issuer: tt.tenant.issuer,
      audience: tt.config.audience,
    });
    assert.equal(payload.azp, tt.config.web.clientId);
    assert.deepEqual(payload.permissions, [ADMIN_PERMISSION]);
    assert.equal((await client.userinfo(String(tokens.access_token))).email, ADMIN);
  });

  it('refreshes with client_secret_basic: new tokens and a new validated ID token', async () => {
    const client = await webClient(tt);
    const { callbackUrl, checks } = await logIn(tt, client);
    const first = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    assert.equal(typeof first.refresh_token, 'string');
    const refreshed = await client.refresh(String(first.refresh_token));
    assert.equal(typeof refreshed.access_token, 'string');
    assert.notEqual(refreshed.refresh_token, first.refresh_token, 'rotated');
    assert.equal(refreshed.claims().sub, first.claims().sub);
  });

  it('signs in with client_secret_post as well', async () => {
    const client = await webClient(tt, 'client_secret_post');
    const { callbackUrl, checks } = await logIn(tt, client);
    const tokens = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    assert.equal(tokens.claims().email, ADMIN);
  });

  it('form-encodes id and secret in Basic (RFC 6749 section 2.3.1): a secret with reserved characters works', async (t) => {
    const tt = await startTestTenant({ t, env: { DEV_TENANT_WEB_CLIENT_SECRET: 'a b:c+d%e/f&g' } });
    const client = await webClient(tt);
    const { callbackUrl, checks } = await logIn(tt, client);
    const tokens = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    assert.equal(tokens.claims().email, ADMIN);
  });

  it('asks for the API with RFC 8707 resource instead of audience: the access token is for the API', async () => {
    const client = await webClient(tt);
    const { callbackUrl, checks } = await logIn(tt, client, 'resource');
    assert.equal(new URL(callbackUrl).searchParams.has('code'), true, callbackUrl);
    const tokens = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    const { payload } = await jwtVerify(String(tokens.access_token), createRemoteJWKSet(new URL(`${tt.tenant.url}/.well-known/jwks.json`)), {
      issuer: tt.tenant.issuer,
      audience: tt.config.audience,
    });
    assert.equal(payload.azp, tt.config.web.clientId);
  });

  // [case, client, how it fails]
  const refusals: [string, (tt: TestTenant) => Promise<Client>][] = [
    ['a wrong secret, in Basic', (tt) => webClient(tt, 'client_secret_basic', 'wrong-secret')],
    ['a wrong secret, in the body', (tt) => webClient(tt, 'client_secret_post', 'wrong-secret')],
    [
      'private_key_jwt: the client has no registered key',
      async (tt) => {
        const issuer = await Issuer.discover(tt.tenant.url);
        const { privateKey } = await import('node:crypto').then(({ generateKeyPairSync }) => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
        return new issuer.Client(
          { client_id: tt.config.web.clientId, redirect_uris: [redirectUri(tt)], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' },
          { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'ES256' }] },
        );
      },
    ],
  ];
  for (const [name, makeClient] of refusals) {
    it(`${name}: 401 invalid_client, and no tokens`, async () => {
      const client = await makeClient(tt);
      const { callbackUrl, checks } = await logIn(tt, client);
      await assert.rejects(client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks), (error: unknown) => {
        assert.ok(error instanceof errors.OPError, String(error));
        assert.equal(error.error, 'invalid_client');
        assert.equal(error.response?.statusCode, 401);
        return true;
      });
    });
  }

  it('logs out through end_session_endpoint with id_token_hint, back to CLIENT_ORIGIN_URL; the tenant session is gone', async () => {
    const client = await webClient(tt);
    const { callbackUrl, checks, cookie } = await logIn(tt, client);
    const tokens = await client.callback(redirectUri(tt), client.callbackParams(callbackUrl), checks);
    const logoutUrl = new URL(client.endSessionUrl({ id_token_hint: String(tokens.id_token), post_logout_redirect_uri: APP }));
    assert.equal(logoutUrl.origin, tt.tenant.url);
    const response = await getTenant(tt, `${logoutUrl.pathname}${logoutUrl.search}`, cookie);
    assert.equal(response.status, 302);
    assert.equal(response.location, 'http://localhost:4040');
    const again = new URL(client.authorizationUrl({ scope: 'openid', code_challenge: generators.codeChallenge(generators.codeVerifier()), code_challenge_method: 'S256' }));
    const answer = await getTenant(tt, `${again.pathname}${again.search}`, cookie);
    assert.match(answer.location ?? '', /^\/u\/login\?/, 'signed out: the login page again, not a code');
  });

  // nextjs-auth0 sends Auth0's own logout to *.auth0.com issuers; anywhere, returnTo must be allowed.
  const logouts: [string, Record<string, string>, number, string | null][] = [
    ["Auth0's /v2/logout with client_id and returnTo", { client_id: 'hello-world-web', returnTo: 'http://localhost:4040' }, 302, 'http://localhost:4040'],
    ['returnTo with a trailing slash', { client_id: 'hello-world-web', returnTo: 'http://localhost:4040/' }, 302, 'http://localhost:4040/'],
    ['a returnTo not allowed', { client_id: 'hello-world-web', returnTo: 'https://evil.example.com/' }, 400, null],
    ["the SPA's client_id for another client's URL", { client_id: 'hello-world-spa', returnTo: 'http://localhost:4040/api/auth/callback' }, 400, null],
  ];
  for (const [name, query, status, location] of logouts) {
    it(`logout: ${name}: ${String(status)}`, async () => {
      const response = await fetch(`${tt.tenant.url}/v2/logout?${new URLSearchParams(query).toString()}`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      assert.equal(response.status, status);
      assert.equal(response.headers.get('location'), location);
    });
  }
});
