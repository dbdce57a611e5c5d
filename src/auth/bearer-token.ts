import { MalformedAuthorizationError, MissingTokenError } from '../errors/http-errors.js';

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Takes the access token out of an `Authorization` header value. Only the header is ever read:
 * tokens in query strings or bodies leak into logs and caches (RFC 6750 section 5.3).
 *
 * - no header, or another scheme (Basic, Digest...): MissingTokenError (401)
 * - `Bearer` with no token, extra parts, or characters no token has: MalformedAuthorizationError (400)
 */
export function extractBearerToken(header: string | undefined): string {
  if (header === undefined) throw new MissingTokenError();
  const parts = header.trim().split(/[ \t]+/);
  const scheme = parts[0] ?? '';
  if (scheme.toLowerCase() !== 'bearer') throw new MissingTokenError();
  if (parts.length === 1) {
    throw new MalformedAuthorizationError('Authorization header must be "Bearer <token>": the token is missing');
  }
  if (parts.length > 2) {
    throw new MalformedAuthorizationError('Authorization header must be "Bearer <token>": found extra parts');
  }
  const token = parts[1] ?? '';
  if (!B64TOKEN.test(token)) {
    throw new MalformedAuthorizationError('Authorization header must be "Bearer <token>": the token has invalid characters');
  }
  return token;
}
