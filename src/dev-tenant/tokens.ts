import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { DevTenantUser } from './config.js';
import { SIGNING_ALG, type SigningKey } from './signing-keys.js';

/**
 * Every token the dev tenant signs, shaped as Auth0 issues it. All access tokens, whatever the
 * grant, are built by `signAccessToken`: the one place their claims are assembled (and where a
 * `cnf` claim for sender-constrained tokens belongs).
 */

/** Auth0's default ID token lifetime (36 000 s = 10 h). */
export const ID_TOKEN_LIFETIME_SECONDS = 36_000;

/** What differs between grants; `signAccessToken` adds `iss`, `iat`, `exp` and the header. */
export interface AccessTokenSubject {
  /** `<client_id>@clients` for a machine, `auth0|…` for a user. */
  readonly sub: string;
  /** The API, and `<issuer>userinfo` too when `openid` was granted. */
  readonly aud: string | readonly string[];
  readonly azp: string;
  readonly scope: string;
  readonly permissions: readonly string[];
  /** `client-credentials` on machine tokens; absent on user tokens, as in Auth0. */
  readonly gty?: string;
}

export interface SigningContext {
  /** Signs access tokens, with its own `alg` (RS256, or PS256 when asked). */
  readonly key: SigningKey;
  /** Signs ID tokens: always RS256, the only algorithm Auth0's SPA SDK accepts. */
  readonly idTokenKey: SigningKey;
  /** Thumbprint of the client's DPoP key when the request carried a valid proof: access tokens get `cnf.jkt` (RFC 9449 section 6). */
  readonly jkt?: string | undefined;
  /** The tenant URL with a trailing slash, as Auth0 writes `iss`. */
  readonly issuer: string;
  readonly nowSeconds: number;
}

export async function signAccessToken(
  context: SigningContext,
  subject: AccessTokenSubject,
  lifetimeSeconds: number,
): Promise<string> {
  const { key, issuer, nowSeconds, jkt } = context;
  const { sub, aud, azp, scope, permissions, gty } = subject;
  const claims = {
    ...(gty === undefined ? {} : { gty }),
    azp,
    scope,
    permissions: [...permissions],
    ...(jkt === undefined ? {} : { cnf: { jkt } }),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.publicJwk.alg, typ: 'JWT', kid: key.kid })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(typeof aud === 'string' ? aud : [...aud])
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + lifetimeSeconds)
    .sign(key.privateKey);
}

/** The audience of a user's access token: Auth0 adds its /userinfo when `openid` was granted. */
export function userAccessTokenAudience(audience: string, issuer: string, scope: readonly string[]): string | string[] {
  return scope.includes('openid') ? [audience, `${issuer}userinfo`] : audience;
}

/** Profile claims by scope, as /userinfo and the ID token both give them. */
export function profileClaims(user: DevTenantUser, scope: readonly string[]): Record<string, unknown> {
  const local = user.email.split('@')[0] ?? user.email;
  return {
    ...(scope.includes('profile') ? { name: user.name, nickname: local, picture: avatarFor(user) } : {}),
    ...(scope.includes('email') ? { email: user.email, email_verified: true } : {}),
  };
}

export interface IdTokenInput {
  readonly user: DevTenantUser;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly sessionId: string;
}

export async function signIdToken(context: SigningContext, input: IdTokenInput): Promise<string> {
  const { idTokenKey: key, issuer, nowSeconds } = context;
  const { user, clientId, scope, nonce, authTime, sessionId } = input;
  return new SignJWT({
    ...profileClaims(user, scope),
    ...(nonce === undefined ? {} : { nonce }),
    auth_time: authTime,
    // Auth0's `sid` is an opaque session id, not the cookie value.
    sid: sessionIdClaim(sessionId),
  })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid: key.kid })
    .setIssuer(issuer)
    .setSubject(user.userId)
    .setAudience(clientId)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ID_TOKEN_LIFETIME_SECONDS)
    .sign(key.privateKey);
}

/** Stable per session, and says nothing about the cookie value. */
function sessionIdClaim(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('base64url').slice(0, 32);
}

/**
 * A data: URL with the user's initial, so the profile page shows a picture without any request
 * off the machine (Auth0 would point at Gravatar).
 */
function avatarFor(user: DevTenantUser): string {
  const first = (user.email[0] ?? '?').toUpperCase();
  const initial = /^[A-Z0-9]$/.test(first) ? first : '?';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#635dff"/>` +
    `<text x="48" y="62" font-size="44" font-family="sans-serif" text-anchor="middle" fill="#fff">${initial}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
