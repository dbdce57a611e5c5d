import type { onRequestAsyncHookHandler } from 'fastify';
import { InsufficientPermissionError } from '../errors/http-errors.js';
import { extractBearerToken } from './bearer-token.js';
import { hasPermission } from './permissions.js';
import type { TokenVerifier } from './token-verifier.js';

/**
 * An onRequest hook that lets the request through only with a valid access token and, when
 * `permission` is given, only if the token grants it. Runs before any body handling.
 */
export function authorize(verifier: TokenVerifier, permission?: string): onRequestAsyncHookHandler {
  return async function checkAccessToken(request) {
    const claims = await verifier.verify(extractBearerToken(request.headers.authorization));
    if (permission !== undefined && !hasPermission(claims, permission)) {
      throw new InsufficientPermissionError(permission);
    }
  };
}
