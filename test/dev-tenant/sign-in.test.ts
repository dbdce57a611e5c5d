import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { buildApp } from '../../src/app.js';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import {
  type Authorization,
  authorize,
  authorizeParams,
  exchangeCode,
  getTenant,
  newVerifier,
  postToken,
  signIn,
  submitLogin,
  type TokenAnswer,
} from '../helpers/sign-in.js';
import { apiConfigFor, startTestTenant, type TestTenant } from '../helpers/tenant.js';

/**
 * Browser sign-in at the protocol level, over HTTP on loopback: what auth0-spa-js sends and what
 * it must get back, and every refusal (one `it` per row). The real SDK in Chromium is
 * browser-sign-in.test.ts.
 */

const ORIGIN = 'http://localhost:4040';
const CALLBACK = `${ORIGIN}/callback`;
const USER = 'user@example.com';
const ADMIN = 'admin@example.com';

let tt: TestTenant;
/** Seconds added to the tenant's clock, to expire codes without waiting. */
let clockOffset = 0;
before(async () => {
  tt = await startTestTenant({ now: () => Math.floor(Date.now() / 1000) + clockOffset });
});
after(() => tt.close());

function verify(token: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${tt.tenant.url}/.well-known/jwks.json`));
  return jwtVerify(token, jwks, { issuer: tt.tenant.issuer, audience, algorithms: ['RS256'], typ: 'JWT' });
}

function tokenOf(answer: TokenAnswer, name: 'access_token' | 'id_token' | 'refresh_token'): string {
  const value = answer.body[name];
  assert.equal(typeof value, 'string', `${name} in ${JSON.stringify(answer.body)}`);
  return String(value);
}

function callbackParams(location: string | null): Record<string, string> {
  assert.ok(location !== null, 'a redirect');
  const url = new URL(location);
  assert.equal(`${url.origin}${url.pathname}`, CALLBACK);
  return Object.fromEntries(url.searchParams);
}

/** The JSON the web_message page posts, and where to. */
function postedMessage(page: Authorization): { message: unknown; target: unknown } {
  const match = /postMessage\((.*),("[^"]*")\);<\/script>/.exec(page.body);
  assert.ok(match, page.body);
  return { message: JSON.parse(match[1] ?? ''), target: JSON.parse(match[2] ?? '') };
}

describe('browser sign-in over HTTP', () => {
  it('sends /authorize to the login page, which lists every user by email', async () => {
    const started = await authorize(tt, authorizeParams(tt, newVerifier()));
    assert.equal(started.status, 302);
    assert.match(started.location ?? '', /^\/u\/login\?state=[\w-]{43}$/);
    const page = await getTenant(tt, started.location ?? '');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    assert.doesNotMatch(page.body, /<script/);
    for (const email of [USER, ADMIN]) assert.match(page.body, new RegExp(`<button[^>]*>Continue as <strong>${email}</strong>`));
  });

  it('signs in: a session cookie (HttpOnly, SameSite=Lax) and a code with the state echoed byte for byte', async () => {
    const state = 'a+b/c=d&e%20f g~é';
    const signedIn = await signIn(tt, ADMIN, { params: { state } });
    assert.equal(signedIn.state, state);
    assert.match(signedIn.cookie, /^dev_tenant_session=[\w-]{43}$/);
    const login = await authorize(tt, authorizeParams(tt, newVerifier()));
    const done = await submitLogin(tt, login.location ?? '', ADMIN);
    const setCookie = done.setCookie ?? '';
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Lax/);
    assert.match(setCookie, /; Path=\//);
    assert.match(setCookie, /; Max-Age=259200/);
  });

  it('exchanges the code for tokens as Auth0 issues them to a user', async () => {
    const signedIn = await signIn(tt, ADMIN);
    const before = Math.floor(Date.now() / 1000);
    const answer = await exchangeCode(tt, signedIn);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(answer.body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    assert.equal(answer.body.token_type, 'Bearer');
    assert.equal(answer.body.expires_in, tt.config.tokenLifetimeSeconds);
    assert.equal(answer.body.scope, 'openid profile email offline_access');
    const admin = tt.config.users.find((user) => user.email === ADMIN);
    assert.ok(admin);

    const access = await verify(tokenOf(answer, 'access_token'), tt.config.audience);
    const { iat, exp, ...claims } = access.payload;
    assert.deepEqual(claims, {
      iss: tt.tenant.issuer,
      sub: admin.userId,
      aud: [tt.config.audience, `${tt.tenant.issuer}userinfo`],
      azp: tt.config.spa.clientId,
      scope: 'openid profile email offline_access',
      permissions: [ADMIN_PERMISSION],
    });
    assert.ok(iat !== undefined && iat >= before);
    assert.equal(exp, iat + tt.config.tokenLifetimeSeconds);

    const idToken = tokenOf(answer, 'id_token');
    assert.equal(decodeProtectedHeader(idToken).alg, 'RS256');
    const id = await verify(idToken, tt.config.spa.clientId);
    assert.equal(id.payload.iss, `${tt.tenant.url}/`);
    assert.equal(id.payload.sub, admin.userId);
    assert.equal(id.payload.nonce, signedIn.params.nonce);
    assert.equal(id.payload.name, ADMIN);
    assert.equal(id.payload.email, ADMIN);
    assert.equal(id.payload.email_verified, true);
    assert.match(String(id.payload.picture), /^data:image\/svg\+xml,/);
    assert.equal(typeof id.payload.sid, 'string');
    assert.ok(typeof id.payload.auth_time === 'number' && id.payload.auth_time <= (id.payload.iat ?? 0));
    assert.equal(id.payload.exp, (id.payload.iat ?? 0) + 36_000);
  });

  it('gives no refresh token without offline_access, and no ID token without openid', async () => {
    const answer = await exchangeCode(tt, await signIn(tt, USER, { params: { scope: 'profile email' } }));
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    const { payload } = await verify(tokenOf(answer, 'access_token'), tt.config.audience);
    assert.equal(payload.aud, tt.config.audience);
  });

  it('the API accepts the user tokens: admin 200 on /admin, the plain user 403', async (t) => {
    const app = await buildApp(apiConfigFor(tt.tenant.url, {}, tt.config.audience));
    t.after(() => app.close());
    for (const [email, status] of [[ADMIN, 200], [USER, 403]] as const) {
      const token = tokenOf(await exchangeCode(tt, await signIn(tt, email)), 'access_token');
      const response = await app.inject({ url: '/api/messages/admin', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, status, email);
      const protectedResponse = await app.inject({ url: '/api/messages/protected', headers: { authorization: `Bearer ${token}` } });
      assert.equal(protectedResponse.statusCode, 200, email);
    }
  });

  it('signs in again from the session without the login page; prompt=login and screen_hint=signup show it', async () => {
    const { cookie } = await signIn(tt, USER);
    const again = await authorize(tt, authorizeParams(tt, newVerifier()), cookie);
    assert.equal(again.status, 302);
    assert.ok(callbackParams(again.location).code);
    for (const params of [{ prompt: 'login' }, { screen_hint: 'signup' }]) {
      const forced = await authorize(tt, { ...authorizeParams(tt, newVerifier()), ...params }, cookie);
      assert.match(forced.location ?? '', /^\/u\/login\?state=/, JSON.stringify(params));
    }
    const signup = await authorize(tt, { ...authorizeParams(tt, newVerifier()), screen_hint: 'signup' });
    assert.match((await getTenant(tt, signup.location ?? '')).body, /<h1>Sign up<\/h1>/);
  });

  it('silent authentication: web_message posts the code to the exact web origin, and may be framed only by it', async () => {
    const { cookie } = await signIn(tt, USER);
    const verifier = newVerifier();
    const params: Record<string, string> = { ...authorizeParams(tt, verifier), prompt: 'none', response_mode: 'web_message' };
    const page = await authorize(tt, params, cookie);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', new RegExp(`frame-ancestors ${ORIGIN};`));
    const { message, target } = postedMessage(page);
    assert.equal(target, ORIGIN);
    assert.doesNotMatch(page.body, /"\*"/);
    assert.ok(typeof message === 'object' && message !== null && 'response' in message);
    const response: unknown = message.response;
    assert.ok(typeof response === 'object' && response !== null && 'code' in response && 'state' in response);
    assert.equal(response.state, params.state);
    const answer = await exchangeCode(tt, { code: String(response.code), state: null, cookie, verifier, params });
    assert.equal(answer.status, 200);
  });

  it('silent authentication without a session answers login_required, through web_message or the query', async () => {
    const params: Record<string, string> = { ...authorizeParams(tt, newVerifier()), prompt: 'none' };
    const page = await authorize(tt, { ...params, response_mode: 'web_message' });
    assert.deepEqual(postedMessage(page), {
      message: { type: 'authorization_response', response: { error: 'login_required', error_description: 'Login required', state: params.state } },
      target: ORIGIN,
    });
    const redirect = await authorize(tt, params);
    assert.deepEqual(callbackParams(redirect.location), { error: 'login_required', error_description: 'Login required', state: params.state });
  });

  it('rotates refresh tokens; reusing a retired one revokes the whole family', async () => {
    const first = tokenOf(await exchangeCode(tt, await signIn(tt, ADMIN)), 'refresh_token');
    const refresh = (token: string) => postToken(tt, { client_id: tt.config.spa.clientId, grant_type: 'refresh_token', refresh_token: token });
    const rotated = await refresh(first);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const second = tokenOf(rotated, 'refresh_token');
    assert.notEqual(second, first);
    const { payload } = await verify(tokenOf(rotated, 'access_token'), tt.config.audience);
    assert.deepEqual(payload.permissions, [ADMIN_PERMISSION]);
    tokenOf(rotated, 'id_token');

    const reused = await refresh(first);
    assert.equal(reused.status, 403);
    assert.equal(reused.body.error, 'invalid_grant');
    const afterReuse = await refresh(second);
    assert.equal(afterReuse.status, 403, 'the newest token of the family is revoked too');
  });

  it('/userinfo gives the profile for a user token granted openid, and refuses anything else', async () => {
    const answer = await exchangeCode(tt, await signIn(tt, USER));
    const get = (authorization?: string) =>
      fetch(`${tt.tenant.url}/userinfo`, { headers: authorization === undefined ? {} : { authorization } });
    const ok = await get(`Bearer ${tokenOf(answer, 'access_token')}`);
    assert.equal(ok.status, 200);
    const user = tt.config.users.find((candidate) => candidate.email === USER);
    const body: unknown = await ok.json();
    assert.ok(typeof body === 'object' && body !== null);
    assert.deepEqual(Object.keys(body).sort(), ['email', 'email_verified', 'name', 'nickname', 'picture', 'sub']);
    assert.ok('sub' in body && body.sub === user?.userId);
    for (const authorization of [undefined, 'Bearer nope', `Bearer ${await tt.token('admin')}`, `Bearer ${tokenOf(answer, 'id_token')}`]) {
      const refused = await get(authorization);
      assert.equal(refused.status, 401, String(authorization));
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    }
  });

  it('/v2/logout ends the session, revokes its refresh tokens and returns to an allowed logout URL', async () => {
    const signedIn = await signIn(tt, USER);
    const refreshToken = tokenOf(await exchangeCode(tt, signedIn), 'refresh_token');
    const logout = await getTenant(tt, `/v2/logout?${new URLSearchParams({ client_id: tt.config.spa.clientId, returnTo: ORIGIN }).toString()}`, signedIn.cookie);
    assert.equal(logout.status, 302);
    assert.equal(logout.location, ORIGIN);
    assert.match(logout.setCookie ?? '', /^dev_tenant_session=;/);
    const silent = await authorize(tt, { ...authorizeParams(tt, newVerifier()), prompt: 'none' }, signedIn.cookie);
    assert.equal(callbackParams(silent.location).error, 'login_required');
    const refreshed = await postToken(tt, { client_id: tt.config.spa.clientId, grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(refreshed.status, 403);
  });

  it('answers the SPA SDK\'s CORS preflight for /oauth/token from an allowed web origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${tt.tenant.url}/oauth/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'auth0-client,content-type,dpop' },
      });
    const allowed = await preflight(ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ORIGIN);
    const headers = (allowed.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',').map((header) => header.trim());
    for (const header of ['content-type', 'auth0-client', 'dpop']) assert.ok(headers.includes(header), header);
    for (const origin of ['http://localhost:4041', 'http://127.0.0.1:4040', 'https://evil.example.com']) {
      assert.equal((await preflight(origin)).headers.get('access-control-allow-origin'), null, origin);
    }
  });
});

type Check = (tt: TestTenant) => Promise<void>;

/** The answer is an error page on the tenant: 400, HTML, and no redirect anywhere. */
function errorPageFor(pathAndQuery: (tt: TestTenant) => string, message: RegExp, cookie?: () => string): Check {
  return async (tenant) => {
    const answer = await getTenant(tenant, pathAndQuery(tenant), cookie?.());
    assert.equal(answer.status, 400, answer.body);
    assert.equal(answer.location, null, 'never redirects');
    assert.match(answer.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(answer.body, message);
  };
}

function authorizeQuery(tenant: TestTenant, changes: Record<string, string | undefined>): string {
  const params = { ...authorizeParams(tenant, newVerifier()), ...changes };
  const defined = Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return `/authorize?${new URLSearchParams(defined).toString()}`;
}

/** The error goes back to the (trusted) callback with the state. */
function callbackError(changes: Record<string, string | undefined>, error: string): Check {
  return async (tenant) => {
    const params = { ...authorizeParams(tenant, newVerifier()), ...changes };
    const answer = await authorize(tenant, params);
    assert.equal(answer.status, 302);
    const query = callbackParams(answer.location);
    assert.equal(query.error, error);
    assert.ok(query.error_description);
    assert.equal(query.state, params.state);
    assert.equal(query.code, undefined);
  };
}

function tokenRefusal(
  changes: (tenant: TestTenant) => Record<string, string | undefined>,
  status: number,
  error: string,
): Check {
  return async (tenant) => {
    const answer = await exchangeCode(tenant, await signIn(tenant, USER), changes(tenant));
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error, error);
    assert.equal(answer.body.access_token, undefined);
  };
}

function logoutQuery(params: Record<string, string>): string {
  return `/v2/logout?${new URLSearchParams(params).toString()}`;
}

/** [refusal, check] */
const REFUSALS: [string, Check][] = [
  ['authorize with a redirect_uri not allowed', errorPageFor((x) => authorizeQuery(x, { redirect_uri: 'https://evil.example.com/callback' }), /Callback URL mismatch/)],
  ['authorize with a redirect_uri on the allowed origin but another path', errorPageFor((x) => authorizeQuery(x, { redirect_uri: `${ORIGIN}/evil` }), /Callback URL mismatch/)],
  ['authorize with no client_id', errorPageFor((x) => authorizeQuery(x, { client_id: undefined }), /client_id/)],
  ['authorize with an unknown client', errorPageFor((x) => authorizeQuery(x, { client_id: 'evil' }), /Unknown client: evil/)],
  ['authorize with an error and a bad redirect_uri (no open redirect)', errorPageFor((x) => authorizeQuery(x, { redirect_uri: 'https://evil.example.com/', response_type: 'token' }), /Callback URL mismatch/)],
  ['web_message to a callback not allowed', errorPageFor((x) => authorizeQuery(x, { response_mode: 'web_message', prompt: 'none' }).replace(encodeURIComponent(CALLBACK), encodeURIComponent('http://localhost:5050/callback')), /Callback URL mismatch/)],
  ['the implicit flow', callbackError({ response_type: 'token' }, 'unsupported_response_type')],
  ['the implicit flow with an ID token', callbackError({ response_type: 'id_token' }, 'unsupported_response_type')],
  ['authorize without PKCE', callbackError({ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request')],
  ['authorize with PKCE plain', callbackError({ code_challenge_method: 'plain' }, 'invalid_request')],
  ['authorize for an unknown audience', callbackError({ audience: 'https://other.example.com' }, 'access_denied')],
  ['a code with the wrong PKCE verifier', tokenRefusal(() => ({ code_verifier: newVerifier() }), 403, 'invalid_grant')],
  ['a code without a PKCE verifier', tokenRefusal(() => ({ code_verifier: undefined }), 400, 'invalid_request')],
  ['a code with another redirect_uri', tokenRefusal(() => ({ redirect_uri: `${ORIGIN}/other` }), 403, 'invalid_grant')],
  ['a code without redirect_uri', tokenRefusal(() => ({ redirect_uri: undefined }), 400, 'invalid_request')],
  ['a code redeemed by a machine client', tokenRefusal((x) => ({ client_id: x.config.clients[0]?.clientId }), 403, 'unauthorized_client')],
  ['a code redeemed by an unknown client', tokenRefusal(() => ({ client_id: 'evil' }), 401, 'access_denied')],
  ['a made-up code', tokenRefusal(() => ({ code: 'made-up' }), 403, 'invalid_grant')],
  [
    'a code replayed: refused, and the refresh token of the first exchange is revoked',
    async (tenant) => {
      const signedIn = await signIn(tenant, USER);
      const first = await exchangeCode(tenant, signedIn);
      assert.equal(first.status, 200);
      const replay = await exchangeCode(tenant, signedIn);
      assert.equal(replay.status, 403);
      assert.equal(replay.body.error, 'invalid_grant');
      const refresh = await postToken(tenant, { client_id: tenant.config.spa.clientId, grant_type: 'refresh_token', refresh_token: tokenOf(first, 'refresh_token') });
      assert.equal(refresh.status, 403, 'what the code issued is revoked');
    },
  ],
  [
    'a code tried with a wrong verifier first is used up',
    async (tenant) => {
      const signedIn = await signIn(tenant, USER);
      assert.equal((await exchangeCode(tenant, signedIn, { code_verifier: newVerifier() })).status, 403);
      assert.equal((await exchangeCode(tenant, signedIn)).status, 403);
    },
  ],
  [
    'a code after 60 s',
    async (tenant) => {
      const signedIn = await signIn(tenant, USER);
      clockOffset = 61;
      try {
        const answer = await exchangeCode(tenant, signedIn);
        assert.equal(answer.status, 403);
        assert.equal(answer.body.error, 'invalid_grant');
      } finally {
        clockOffset = 0;
      }
    },
  ],
  [
    'a refresh token of another client',
    async (tenant) => {
      const refreshToken = tokenOf(await exchangeCode(tenant, await signIn(tenant, USER)), 'refresh_token');
      const answer = await postToken(tenant, { client_id: 'evil', grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(answer.status, 401);
    },
  ],
  ['logout to a URL not allowed', errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: 'https://evil.example.com' }), /not in the list of Allowed Logout URLs/)],
  ['logout to a look-alike host', errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: `${ORIGIN}.evil.example.com` }), /Allowed Logout URLs/)],
  ['logout to user info @ another host', errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: `${ORIGIN}@evil.example.com` }), /Allowed Logout URLs/)],
  ['logout to a scheme-relative URL', errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: '//evil.example.com' }), /Allowed Logout URLs/)],
  ['logout to the allowed URL plus a path', errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: `${ORIGIN}/evil` }), /Allowed Logout URLs/)],
  ['logout with returnTo but no client_id', errorPageFor(() => logoutQuery({ returnTo: ORIGIN }), /client_id/)],
  ['logout with returnTo and an unknown client', errorPageFor(() => logoutQuery({ client_id: 'evil', returnTo: ORIGIN }), /client_id/)],
  [
    'a refused logout leaves the session alone',
    async (tenant) => {
      const { cookie } = await signIn(tenant, USER);
      await errorPageFor((x) => logoutQuery({ client_id: x.config.spa.clientId, returnTo: 'https://evil.example.com' }), /Allowed/, () => cookie)(tenant);
      const silent = await authorize(tenant, { ...authorizeParams(tenant, newVerifier()), prompt: 'none' }, cookie);
      assert.ok(callbackParams(silent.location).code);
    },
  ],
  [
    'a login form posted from another site (login CSRF)',
    async (tenant) => {
      const started = await authorize(tenant, authorizeParams(tenant, newVerifier()));
      const answer = await submitLogin(tenant, started.location ?? '', USER, 'https://evil.example.com');
      assert.equal(answer.status, 403);
      assert.equal(answer.setCookie, null);
      assert.equal(answer.location, null);
    },
  ],
  [
    'a login page whose transaction is unknown',
    errorPageFor(() => '/u/login?state=made-up', /expired/),
  ],
  [
    'a request whose Host is not loopback (DNS rebinding)',
    async (tenant) => {
      const { request } = await import('node:http');
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const outgoing = request(`${tenant.tenant.url}/.well-known/jwks.json`, { headers: { host: 'evil.example.com' } }, (response) => {
          response.resume();
          resolve(response.statusCode);
        });
        outgoing.on('error', reject);
        outgoing.end();
      });
      assert.equal(status, 421);
    },
  ],
];

describe('browser sign-in refusals', () => {
  for (const [name, check] of REFUSALS) {
    it(`refuses ${name}`, () => check(tt));
  }

  it('refuses web_message to an allowed callback whose origin is not an allowed web origin (no postMessage at all)', async (t) => {
    const other = 'http://localhost:5050/callback';
    const tenant = await startTestTenant({ t, env: { DEV_TENANT_SPA_CALLBACK_URLS: `${CALLBACK},${other}` } });
    const params = { ...authorizeParams(tenant, newVerifier()), redirect_uri: other, response_mode: 'web_message', prompt: 'none' };
    const answer = await authorize(tenant, params);
    assert.equal(answer.status, 400);
    assert.equal(answer.location, null);
    assert.doesNotMatch(answer.body, /postMessage|<script/);
    assert.match(answer.body, /http:\/\/localhost:5050 is not in the list of Allowed Web Origins/);
    // The same callback with response_mode=query is fine: the web origin only matters for postMessage.
    assert.equal((await authorize(tenant, { ...params, response_mode: 'query' })).status, 302);
  });
});
