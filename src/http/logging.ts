import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { LogLevel } from '../config/config.js';

// An upstream id (load balancer, gateway) is kept if it is short and plain, so logs can be joined.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Base64url of `{"`: how the header of every JWT (JWS or JWE) a client holds begins. */
const JWT_START = 'eyJ';

/**
 * A JWT-looking run: base64url starting with `eyJ`, then one to four more dot-separated parts
 * (a JWS has three, a JWE five; a signature may be empty). Only runs with a dot are taken, so a
 * header alone, which is no credential, stays readable.
 */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,4}/g;

/** The client's X-Request-Id if it is 1-64 characters of [A-Za-z0-9._:-] and no token prefix; else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) && !incoming.includes(JWT_START) ? incoming : randomUUID();
}

/**
 * The request target as logged: no query string or fragment, no userinfo, no JWT.
 * - An absolute-form target (`GET http://user:pass@host/path`, RFC 9112 section 3.2.2) is logged
 *   as origin and path without its userinfo; one the URL parser refuses is logged as a placeholder.
 * - Anything in the path that looks like a JWT (a token pasted into the URL) becomes `[redacted-jwt]`.
 * Origin-form paths without `eyJ`, nearly every request, are returned as they are.
 */
export function loggedTarget(url: string): string {
  const end = url.search(/[?#]/);
  let target = end === -1 ? url : url.slice(0, end);
  if (!target.startsWith('/') && target !== '*') {
    if (!URL.canParse(target)) return '[unparsed absolute-form target]';
    const parsed = new URL(target);
    target = `${parsed.origin}${parsed.pathname}`;
  }
  return target.includes(JWT_START) ? target.replace(JWT_LIKE, '[redacted-jwt]') : target;
}

/**
 * pino through Fastify: JSON lines with a request id. Requests are logged as method and target
 * (loggedTarget: no query, userinfo or JWT), so a credential in the URL never reaches the log, and
 * no header is ever logged (the redaction is a second guard in case one is added later).
 */
export function loggerOptions(level: LogLevel): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    serializers: {
      req(request: FastifyRequest) {
        return { method: request.method, url: loggedTarget(request.url), remoteAddress: request.ip };
      },
    },
  };
}

/** Sends the request id back as `X-Request-Id`, so a client can quote it when reporting a problem. */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
}
