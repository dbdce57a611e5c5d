import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { JWTPayload } from 'jose';
import { HttpError, InsufficientPermissionError, MalformedAuthorizationError } from '../errors/http-errors.js';
import type { Authenticator } from './authenticate.js';
import { hasRepeatedAuthorization, parseAuthorization } from './authorization-header.js';
import { hasPermission } from './permissions.js';
import { refuseBoundBearer } from './token-binding.js';

/**
 * An onRequest hook that lets the request through only with a valid access token (Bearer or DPoP,
 * see authenticate.ts) and, when `permission` is given, only if the token grants it. Runs before
 * any body handling. A refusal gets the WWW-Authenticate its challenge implies for the DPoP mode.
 *
 * A Bearer token the verified-token cache still trusts is answered without an await (the hook calls
 * `done` at once): the same checks, a promise and a microtask fewer on the common path (measured,
 * BENCHMARKS.md). Everything else takes the full path, itself without a promise for a Bearer token
 * whose key is held fresh (TokenVerifier.check); DPoP and key fetches go through a promise.
 */
export function authorize(authenticator: Authenticator, permission?: string): onRequestHookHandler {
  const withChallenge = (error: unknown, request: FastifyRequest, reply: FastifyReply): Error => {
    if (error instanceof HttpError && error.challenge !== undefined) {
      reply.header('www-authenticate', authenticator.challenge(error.challenge, request.headers.authorization));
    }
    // Anything else is a bug: the error handler answers it as a bare 500.
    return error instanceof Error ? error : new Error(String(error));
  };

  /** What every accepted token must also pass, on either path. Throws HttpError. */
  const checkClaims = (claims: JWTPayload, bearer: boolean): void => {
    // A token bound to a key (cnf) is never taken as Bearer, cached or not.
    if (bearer) refuseBoundBearer(claims);
    if (permission !== undefined && !hasPermission(claims, permission)) {
      throw new InsufficientPermissionError(permission);
    }
  };

  return function checkAccessToken(request, reply, done) {
    const cached = authenticator.cachedBearerClaims(request.headers.authorization);
    if (cached !== undefined) {
      try {
        checkClaims(cached, true);
      } catch (error) {
        done(withChallenge(error, request, reply));
        return;
      }
      done();
      return;
    }
    // The full path. Synchronous too when the verifier answers at once (a new Bearer token whose
    // key is held fresh); a promise only for DPoP or a key the key set must fetch.
    let bearer: boolean;
    let claims: JWTPayload | Promise<JWTPayload>;
    try {
      // Before any token work. Repeated headers arrive joined, so the fast path never matches them.
      if (hasRepeatedAuthorization(request.headers.authorization, request.raw.rawHeaders)) {
        throw new MalformedAuthorizationError('A request takes exactly one Authorization header');
      }
      const presented = parseAuthorization(request.headers.authorization);
      bearer = presented.scheme === 'bearer';
      claims = authenticator.claimsFor(presented, request, reply);
      // Not a `then` test: claims are the token's, and a token may carry a `then` claim.
      if (!(claims instanceof Promise)) checkClaims(claims, bearer);
    } catch (error) {
      done(withChallenge(error, request, reply));
      return;
    }
    if (!(claims instanceof Promise)) {
      done();
      return;
    }
    claims.then((value) => { checkClaims(value, bearer); }).then(
      () => { done(); },
      (error: unknown) => { done(withChallenge(error, request, reply)); },
    );
  };
}
