import { randomBytes } from 'node:crypto';
import { codeChallengeFor } from '../../src/dev-tenant/pkce.js';
import type { TestTenant } from './tenant.js';

/**
 * The browser side of a sign-in, done with fetch: what auth0-spa-js sends, step by step, with the
 * session cookie carried by hand. The real SDK in a real browser is test/dev-tenant/browser-sign-in.test.ts.
 */

export interface SignInRequest {
  /** /authorize parameters replacing the SDK's (undefined removes one). */
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly verifier?: string;
}

export interface Authorization {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
  readonly setCookie: string | null;
  readonly headers: Headers;
}

export const newVerifier = (): string => randomBytes(32).toString('base64url');

/** The SDK's loginWithRedirect parameters for this tenant's SPA client. */
export function authorizeParams(tt: TestTenant, verifier: string): Record<string, string> {
  return {
    client_id: tt.config.spa.clientId,
    scope: 'openid profile email offline_access',
    audience: tt.config.audience,
    redirect_uri: tt.config.spa.callbackUrls[0] ?? '',
    response_type: 'code',
    response_mode: 'query',
    state: randomBytes(12).toString('base64url'),
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: codeChallengeFor(verifier),
    code_challenge_method: 'S256',
    auth0Client: Buffer.from(JSON.stringify({ name: 'test', version: '0' })).toString('base64'),
  };
}

function withoutUndefined(record: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function answer(response: Response): Promise<Authorization> {
  return {
    status: response.status,
    location: response.headers.get('location'),
    body: await response.text(),
    setCookie: response.headers.get('set-cookie'),
    headers: response.headers,
  };
}

/** GET a tenant URL without following redirects, with an optional cookie. */
export async function getTenant(tt: TestTenant, pathAndQuery: string, cookie?: string): Promise<Authorization> {
  const response = await fetch(`${tt.tenant.url}${pathAndQuery}`, {
    redirect: 'manual',
    headers: cookie === undefined ? {} : { cookie },
    signal: AbortSignal.timeout(30_000),
  });
  return answer(response);
}

export async function authorize(tt: TestTenant, params: Readonly<Record<string, string | undefined>>, cookie?: string): Promise<Authorization> {
  return getTenant(tt, `/authorize?${new URLSearchParams(withoutUndefined(params)).toString()}`, cookie);
}

/** Posts the login form for `email` (found on the login page), as a browser would. */
export async function submitLogin(tt: TestTenant, loginUrl: string, email: string, origin = tt.tenant.url): Promise<Authorization> {
  const page = await getTenant(tt, loginUrl);
  const state = new URL(loginUrl, tt.tenant.url).searchParams.get('state') ?? '';
  const user = tt.config.users.find((candidate) => candidate.email === email);
  if (user === undefined) throw new Error(`no user ${email}`);
  if (!page.body.includes(email)) throw new Error(`the login page does not show ${email}`);
  const response = await fetch(`${tt.tenant.url}/u/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ state, user: user.userId }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  return answer(response);
}

/** The `name=value` part of a Set-Cookie header. */
export function cookiePair(setCookie: string | null): string {
  return (setCookie ?? '').split(';')[0] ?? '';
}

export interface SignedIn {
  readonly code: string;
  readonly state: string | null;
  readonly cookie: string;
  readonly verifier: string;
  readonly params: Record<string, string>;
}

/** /authorize -> login page -> pick `email` -> the callback with a code. */
export async function signIn(tt: TestTenant, email: string, request: SignInRequest = {}): Promise<SignedIn> {
  const verifier = request.verifier ?? newVerifier();
  const params = withoutUndefined({ ...authorizeParams(tt, verifier), ...request.params });
  const started = await authorize(tt, params);
  if (started.status !== 302 || started.location === null) throw new Error(`authorize answered ${String(started.status)}: ${started.body}`);
  const done = await submitLogin(tt, started.location, email);
  if (done.status !== 302 || done.location === null) throw new Error(`login answered ${String(done.status)}: ${done.body}`);
  const callback = new URL(done.location);
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${done.location}`);
  return { code, state: callback.searchParams.get('state'), cookie: cookiePair(done.setCookie), verifier, params };
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** POST /oauth/token as the SDK does (form body). */
export async function postToken(tt: TestTenant, fields: Readonly<Record<string, string | undefined>>, headers: Record<string, string> = {}): Promise<TokenAnswer> {
  const response = await fetch(`${tt.tenant.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(withoutUndefined(fields)).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null) throw new Error('not a JSON object');
  return { status: response.status, body: { ...body }, headers: response.headers };
}

/** The SDK's code exchange for a sign-in. */
export function exchangeCode(
  tt: TestTenant,
  signedIn: SignedIn,
  changes: Readonly<Record<string, string | undefined>> = {},
  headers: Record<string, string> = {},
): Promise<TokenAnswer> {
  return postToken(tt, {
    client_id: tt.config.spa.clientId,
    code_verifier: signedIn.verifier,
    grant_type: 'authorization_code',
    code: signedIn.code,
    redirect_uri: signedIn.params.redirect_uri,
    ...changes,
  }, headers);
}
