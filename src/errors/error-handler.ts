import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, InvalidTokenError, MethodNotAllowedError, NotFoundError } from './http-errors.js';

/**
 * The one place errors become responses. Every body is `{"message": "..."}`:
 * - HttpError (our closed set): its status, message and headers;
 * - Fastify's own 4xx (bad URL, unsupported media type, body too large...): the status and the
 *   standard reason phrase (or the schema validation message, which names only the field);
 * - anything else: 500 "Internal Server Error"; the error itself goes to the log only.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => sendError(error, request, reply));

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    // Known route, other method: 405 with Allow, instead of Fastify's default 404.
    const error = app.hasRoute({ method: 'GET', url: path })
      ? new MethodNotAllowedError(['GET', 'HEAD'])
      : new NotFoundError();
    return sendError(error, request, reply);
  });
}

export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) {
    if (error instanceof InvalidTokenError) {
      request.log.info({ code: error.code, reason: error.reason }, 'access token refused');
    } else if (error.statusCode >= 500) {
      request.log.warn({ code: error.code, cause: error.cause }, error.message);
    }
    return reply.code(error.statusCode).headers(error.headers).send({ message: error.message });
  }

  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    const message = 'validation' in error ? error.message : STATUS_CODES[status];
    request.log.info({ code: 'code' in error ? error.code : undefined }, error.message);
    return reply.code(status).send({ message: message ?? 'Bad Request' });
  }

  request.log.error({ err: error }, 'unexpected error');
  return reply.code(500).send({ message: 'Internal Server Error' });
}
