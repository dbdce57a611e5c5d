import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteMissError } from '../errors/error-handler.js';
import { BadRequestError } from '../errors/http-errors.js';

function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/**
 * Every route of this API is a GET: a request body is refused rather than read, and the connection
 * is closed so the unread body is not drained until the request timeout. The method and path are
 * judged first: a body on a wrong method or an unknown path gets the 405 (with Allow) or 404 it
 * would get without one, never a 400 nor Fastify's body parsing (a 415 for an unknown type).
 */
export function refuseRequestBodies(app: FastifyInstance, routeMissError: RouteMissError): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!hasBody(request)) {
      done();
      return;
    }
    reply.header('connection', 'close');
    done(request.is404 ? routeMissError(request) : new BadRequestError('Request bodies are not accepted'));
  });
}
