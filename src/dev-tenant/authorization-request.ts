import type { DevTenantConfig } from './config.js';
import { parameter, scopeList } from './oauth-params.js';
import { requestedAudience } from './resource-indicator.js';
import { isCodeChallenge, PKCE_METHOD } from './pkce.js';

/**
 * Checks of `GET /authorize` (pure): what the SPA SDK and nextjs-auth0 send, validated in the order that keeps
 * redirects safe. Until `client_id` and `redirect_uri` are known good, an error is a page on the
 * tenant (never a redirect: no open redirect); after that it goes back to the callback as
 * RFC 6749 §4.1.2.1 says.
 */

export type ResponseMode = 'query' | 'web_message';

/** The scopes the tenant grants; others are dropped as Auth0 drops unknown ones. */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export interface AuthorizationRequest {
  readonly clientId: string;
  /** Exactly one of the client's callback URLs. */
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  /** Echoed byte for byte; undefined when the client sent none. */
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly codeChallenge: string;
  readonly prompt: 'login' | 'none' | undefined;
  /** OIDC `max_age`, seconds: a session signed in longer ago than this must sign in again. */
  readonly maxAge: number | undefined;
  readonly screenHint: 'signup' | undefined;
}

/** Where an error goes once the callback is trusted. */
export interface ErrorDestination {
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  readonly state: string | undefined;
}

export type AuthorizationCheck =
  | { readonly ok: true; readonly request: AuthorizationRequest }
  /** Shown on the tenant, status 400: the callback cannot be trusted. */
  | { readonly ok: false; readonly kind: 'page'; readonly message: string }
  | {
      readonly ok: false;
      readonly kind: 'callback';
      readonly destination: ErrorDestination;
      readonly error: string;
      readonly description: string;
    };

const PROMPTS = new Set(['login', 'none', 'consent', 'select_account']);

/** The origin of an allowed callback URL; the exact `postMessage` target for web_message. */
export function callbackOrigin(redirectUri: string): string {
  return new URL(redirectUri).origin;
}

/** The browser clients that sign users in: the SPA, and the regular web app (query responses only). */
function browserClient(clientId: string, config: Pick<DevTenantConfig, 'spa' | 'web'>): { callbackUrls: readonly string[]; variable: string; webOrigins: readonly string[] } | undefined {
  if (clientId === config.spa.clientId) return { callbackUrls: config.spa.callbackUrls, variable: 'DEV_TENANT_SPA_CALLBACK_URLS', webOrigins: config.spa.webOrigins };
  if (clientId === config.web.clientId) return { callbackUrls: config.web.callbackUrls, variable: 'DEV_TENANT_WEB_CALLBACK_URLS', webOrigins: [] };
  return undefined;
}

/** `max_age`: whole seconds, 0 or more (OIDC Core §3.1.2.1). */
function maxAgeOf(query: unknown): { ok: true; value: number | undefined } | { ok: false } {
  const value = parameter(query, 'max_age');
  if (value === undefined) return { ok: true, value: undefined };
  return /^\d{1,10}$/.test(value) ? { ok: true, value: Number(value) } : { ok: false };
}

export function checkAuthorizationRequest(
  query: unknown,
  config: Pick<DevTenantConfig, 'spa' | 'web' | 'audience' | 'resourceAliases'>,
): AuthorizationCheck {
  const page = (message: string): AuthorizationCheck => ({ ok: false, kind: 'page', message });
  const clientId = parameter(query, 'client_id');
  if (clientId === undefined) return page('Missing required parameter: client_id');
  const client = browserClient(clientId, config);
  if (client === undefined) return page(`Unknown client: ${clientId}`);
  const redirectUri = parameter(query, 'redirect_uri');
  if (redirectUri === undefined) return page('Missing required parameter: redirect_uri');
  if (!client.callbackUrls.includes(redirectUri)) {
    return page(`Callback URL mismatch. ${redirectUri} is not in the list of Allowed Callback URLs (${client.variable}).`);
  }
  const mode = parameter(query, 'response_mode') ?? 'query';
  if (mode !== 'query' && mode !== 'web_message') return page(`Unsupported response_mode: ${mode}`);
  if (mode === 'web_message' && !client.webOrigins.includes(callbackOrigin(redirectUri))) {
    return page(
      `The origin ${callbackOrigin(redirectUri)} is not in the list of Allowed Web Origins (DEV_TENANT_SPA_WEB_ORIGINS).`,
    );
  }

  const destination: ErrorDestination = { redirectUri, responseMode: mode, state: parameter(query, 'state') };
  const fail = (error: string, description: string): AuthorizationCheck => ({
    ok: false,
    kind: 'callback',
    destination,
    error,
    description,
  });
  const responseType = parameter(query, 'response_type');
  if (responseType === undefined) return fail('invalid_request', 'Missing required parameter: response_type');
  if (responseType !== 'code') {
    return fail('unsupported_response_type', `Unsupported response type: ${responseType} (only "code", with PKCE)`);
  }
  const codeChallenge = parameter(query, 'code_challenge');
  if (codeChallenge === undefined) return fail('invalid_request', 'Missing required parameter: code_challenge (PKCE is required)');
  const method = parameter(query, 'code_challenge_method');
  if (method !== PKCE_METHOD) {
    return fail('invalid_request', `code_challenge_method must be ${PKCE_METHOD}, got ${method ?? 'none'}`);
  }
  if (!isCodeChallenge(codeChallenge)) return fail('invalid_request', 'code_challenge must be base64url of a SHA-256 digest');
  // `audience` or RFC 8707 `resource`; naming two different APIs is a 400 page, as at /oauth/token.
  const requested = requestedAudience(query, config);
  if (!requested.ok) return page(requested.description);
  // Without an audience Auth0 uses the tenant's Default Audience; the dev tenant's is its one API.
  const audience = requested.audience ?? config.audience;
  if (audience !== config.audience) return fail('access_denied', `Service not found: ${audience}`);
  const prompt = parameter(query, 'prompt');
  if (prompt !== undefined && !PROMPTS.has(prompt)) return fail('invalid_request', `Unsupported prompt: ${prompt}`);
  const maxAge = maxAgeOf(query);
  if (!maxAge.ok) return fail('invalid_request', 'max_age must be a whole number of seconds');

  const supported: readonly string[] = SUPPORTED_SCOPES;
  return {
    ok: true,
    request: {
      clientId,
      redirectUri,
      responseMode: mode,
      state: destination.state,
      nonce: parameter(query, 'nonce'),
      scope: scopeList(parameter(query, 'scope')).filter((value) => supported.includes(value)),
      audience,
      codeChallenge,
      prompt: prompt === 'login' || prompt === 'none' ? prompt : undefined,
      maxAge: maxAge.value,
      screenHint: parameter(query, 'screen_hint') === 'signup' ? 'signup' : undefined,
    },
  };
}
