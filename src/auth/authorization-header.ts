import { MalformedAuthorizationError, MissingTokenError } from '../errors/http-errors.js';
import type { AuthScheme } from './challenges.js';

// RFC 6750 section 2.1 (and RFC 9449 section 7.1 for DPoP): b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The scheme an Authorization header names, if it is one this API takes (case-insensitive). */
export function schemeOf(header: string | undefined): AuthScheme | undefined {
  const name = header?.trimStart().split(/[ \t]/, 1)[0]?.toLowerCase();
  return name === 'bearer' ? 'bearer' : name === 'dpop' ? 'dpop' : undefined;
}

/**
 * True when the request carried more than one `Authorization` header. The server joins repeated
 * headers with ", " (src/app.ts, `joinDuplicateHeaders`), so a comma is the cheap sign; the raw
 * header list is counted only then (a single Digest header has commas of its own). A proxy that
 * reads the last header while the API reads the first would disagree on who is calling.
 */
export function hasRepeatedAuthorization(joined: string | undefined, rawHeaders: readonly string[]): boolean {
  if (joined?.includes(',') !== true) return false;
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index];
    if (name?.length === 13 && name.toLowerCase() === 'authorization') count += 1;
  }
  return count > 1;
}

export interface PresentedToken {
  readonly scheme: AuthScheme;
  readonly token: string;
}

/**
 * Takes the scheme and access token out of an `Authorization` header value: `Bearer <token>` or
 * `DPoP <token>` (scheme names are case-insensitive). Only the header is ever read: tokens in
 * query strings or bodies leak into logs and caches (RFC 6750 section 5.3).
 *
 * - no header, or another scheme (Basic, Digest...): MissingTokenError (401)
 * - a known scheme with no token, extra parts, or characters no token has: MalformedAuthorizationError (400)
 */
export function parseAuthorization(header: string | undefined): PresentedToken {
  if (header === undefined) throw new MissingTokenError();
  const parts = header.trim().split(/[ \t]+/);
  const scheme = schemeOf(header);
  if (scheme === undefined) throw new MissingTokenError();
  const shape = scheme === 'bearer' ? 'Authorization header must be "Bearer <token>"' : 'Authorization header must be "DPoP <token>"';
  if (parts.length === 1) throw new MalformedAuthorizationError(`${shape}: the token is missing`);
  if (parts.length > 2) throw new MalformedAuthorizationError(`${shape}: found extra parts`);
  const token = parts[1] ?? '';
  if (!B64TOKEN.test(token)) throw new MalformedAuthorizationError(`${shape}: the token has invalid characters`);
  return { scheme, token };
}
