import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DpopBindingError,
  HttpError,
  InvalidDpopProofError,
  InvalidTokenError,
  KeySetUnavailableError,
  MethodNotAllowedError,
  NotFoundError,
  UseDpopNonceError,
} from './http-errors.js';

/** The 404 (no such path) or 405 (a GET path, another method) for a request no route answers. */
export type RouteMissError = (request: FastifyRequest) => HttpError;

/**
 * The one place errors become responses. Every body is `{"message": "..."}`:
 * - HttpError (our closed set): its status, message and headers;
 * - Fastify's own 4xx (a URL that does not decode...): the status and the standard reason phrase;
 * - anything else: 500 "Internal Server Error"; the error itself goes to the log only.
 * Returns how a route miss is answered, for hooks that must answer one before the not-found
 * handler runs (src/http/request-body.ts).
 */
export function registerErrorHandling(app: FastifyInstance): RouteMissError {
  // The GET routes, collected as they are declared, so the not-found handler can tell "wrong
  // method" (405) from "no such route" (404) without routing the raw URL again: the router would
  // read an attacker's path as a route pattern (":x(" throws, and costs regex work).
  const getPaths = new Set<string>();
  app.addHook('onRoute', (route) => {
    if ([route.method].flat().includes('GET')) getPaths.add(withoutTrailingSlash(route.url));
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => sendError(error, request, reply));

  const routeMissError: RouteMissError = (request) => {
    // A GET or HEAD the router did not take (a path that only decodes to a known one) is a 404:
    // a 405 would tell the client its method is not in Allow when it is.
    if (request.method === 'GET' || request.method === 'HEAD') return new NotFoundError();
    const path = withoutTrailingSlash(decodedPath(request.url));
    return getPaths.has(path) ? new MethodNotAllowedError(['GET', 'HEAD']) : new NotFoundError();
  };
  app.setNotFoundHandler((request, reply) => sendError(routeMissError(request), request, reply));
  return routeMissError;
}

function decodedPath(url: string): string {
  const path = url.split('?', 1)[0] ?? '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) {
    if (error instanceof InvalidTokenError) {
      request.log.info({ code: error.code, check: error.check, reason: error.reason, ...error.details }, 'access token refused');
    } else if (error instanceof KeySetUnavailableError) {
      // An outage, not a bad token: say whose keys and why, so it is not mistaken for one.
      request.log.warn({ code: error.code, ...error.details, cause: error.cause }, 'signing keys unavailable: token not checked');
    } else if (error instanceof InvalidDpopProofError || error instanceof DpopBindingError) {
      request.log.info({ code: error.code, check: error.check, reason: error.reason }, 'DPoP request refused');
    } else if (error instanceof UseDpopNonceError) {
      request.log.info({ code: error.code, check: error.check }, 'DPoP nonce asked for');
    } else if (error.statusCode >= 500) {
      request.log.warn({ code: error.code, cause: error.cause }, error.message);
    }
    return reply.code(error.statusCode).headers(error.headers).send({ message: error.message });
  }

  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Only the code: Fastify's messages can quote the URL, query string (and any token in it) included.
    request.log.info({ code: 'code' in error ? error.code : undefined, status }, 'client error');
    return reply.code(status).send({ message: STATUS_CODES[status] ?? 'Bad Request' });
  }

  request.log.error({ err: error }, 'unexpected error');
  return reply.code(500).send({ message: 'Internal Server Error' });
}
