import type { onRequestAsyncHookHandler } from 'fastify';
import { HttpError, InsufficientPermissionError } from '../errors/http-errors.js';
import type { Authenticator } from './authenticate.js';
import { parseAuthorization } from './authorization-header.js';
import { hasPermission } from './permissions.js';
import { refuseBoundBearer } from './token-binding.js';

/**
 * An onRequest hook that lets the request through only with a valid access token (Bearer or DPoP,
 * see authenticate.ts) and, when `permission` is given, only if the token grants it. Runs before
 * any body handling. A refusal gets the WWW-Authenticate its challenge implies for the DPoP mode.
 */
export function authorize(authenticator: Authenticator, permission?: string): onRequestAsyncHookHandler {
  return async function checkAccessToken(request, reply) {
    try {
      const presented = parseAuthorization(request.headers.authorization);
      const claims = await authenticator.claimsFor(presented, request, reply);
      // A token bound to a key (cnf) is never taken as Bearer, cached or not.
      if (presented.scheme === 'bearer') refuseBoundBearer(claims);
      if (permission !== undefined && !hasPermission(claims, permission)) {
        throw new InsufficientPermissionError(permission);
      }
    } catch (error) {
      if (error instanceof HttpError && error.challenge !== undefined) {
        reply.header('www-authenticate', authenticator.challenge(error.challenge, request.headers.authorization));
      }
      throw error;
    }
  };
}
