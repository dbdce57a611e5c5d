import { isRecord } from '../auth/guards.js';

/**
 * Reading OAuth parameters from a parsed query or body (untrusted), and the error shape Auth0's
 * endpoints answer with.
 */


/**
 * A non-empty string parameter, or undefined for missing, empty or non-string values. A repeated
 * parameter arrives as an array and so reads as missing: RFC 6749 §3.1 forbids repeating one.
 */
export function parameter(source: unknown, name: string): string | undefined {
  if (!isRecord(source)) return undefined;
  const value = source[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An OAuth error reply, with the status and body Auth0's /oauth/token uses. */
export interface OAuthError {
  /** 503 only when the tenant cannot check a request now (its DPoP replay store is full). */
  readonly status: 400 | 401 | 403 | 503;
  readonly body: { readonly error: string; readonly error_description: string };
}

export function oauthError(status: OAuthError['status'], error: string, description: string): { ok: false; error: OAuthError } {
  return { ok: false, error: { status, body: { error, error_description: description } } };
}

export function missingParameter(name: string): { ok: false; error: OAuthError } {
  return oauthError(400, 'invalid_request', `Missing required parameter: ${name}`);
}

/** Space-separated scope values, without repeats, in the order given. */
export function scopeList(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((value) => value !== ''))];
}
