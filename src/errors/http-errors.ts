/**
 * The closed set of errors the API answers with on purpose. Each carries the status, the public
 * message (the whole `{"message"}` body) and any headers the status needs, so the one error
 * handler (src/errors/error-handler.ts) never has to guess. Anything that is not one of these is
 * a bug and is answered as a bare 500.
 */
/** Every `code` an HttpError can carry: stable, for logs, metrics and tests. */
export type HttpErrorCode =
  | 'ERR_MISSING_TOKEN'
  | 'ERR_MALFORMED_AUTHORIZATION'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_INSUFFICIENT_PERMISSION'
  | 'ERR_KEY_SET_UNAVAILABLE'
  | 'ERR_BAD_REQUEST'
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED';

/**
 * Which check refused an access token: a closed set, so logs and metrics can count refusals by
 * cause. The client never sees it (every refusal answers "Bad credentials").
 */
export type TokenCheck =
  | 'format' // not a compact JWS/JWT, or a part that does not decode
  | 'header' // typ, crit, or a header that carries its own key (jwk, jku, x5u, x5c)
  | 'algorithm' // alg not in AUTH0_SIGNING_ALGS, or not the alg of the key the kid names
  | 'kid' // kid missing, malformed, or not in the issuer's JWKS after a successful fetch
  | 'signature'
  | 'expired' // exp
  | 'not_before' // nbf
  | 'issuer' // iss not exactly one of the trusted issuers
  | 'audience' // aud
  | 'claims'; // another registered claim (iat, exp missing...)

/** Details of a refusal for the log: never the token or its signature. */
export interface TokenRefusalDetails {
  /** The claim jose names, when a claim check failed. */
  readonly claim?: string;
  /** For iss and aud: what the API expects and what the token says; for kid and alg, the token's. */
  readonly expected?: unknown;
  readonly received?: unknown;
  /** The trusted issuer whose keys were consulted, once the token's `iss` has picked one. */
  readonly issuer?: string;
}

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: HttpErrorCode;
  /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, headers: Readonly<Record<string, string>> = {}, options?: ErrorOptions) {
    super(message, options);
    this.headers = headers;
  }
}

/** The realm named in every WWW-Authenticate challenge (RFC 6750 section 3). */
export const REALM = 'api';

/** No credentials at all (no Authorization header, or another scheme such as Basic). */
export class MissingTokenError extends HttpError {
  override readonly name = 'MissingTokenError';
  readonly statusCode = 401;
  readonly code = 'ERR_MISSING_TOKEN';
  constructor() {
    super('Requires authentication', { 'www-authenticate': `Bearer realm="${REALM}"` });
  }
}

/** A Bearer header that cannot hold a token: empty, extra parts, characters a JWT never has. */
export class MalformedAuthorizationError extends HttpError {
  override readonly name = 'MalformedAuthorizationError';
  readonly statusCode = 400;
  readonly code = 'ERR_MALFORMED_AUTHORIZATION';
  constructor(message: string) {
    super(message, { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_request"` });
  }
}

/** Bad signature, expired, wrong issuer or audience, unknown key, not a JWT: all look the same outside. */
export class InvalidTokenError extends HttpError {
  override readonly name = 'InvalidTokenError';
  readonly statusCode = 401;
  readonly code = 'ERR_INVALID_TOKEN';
  /** Which check failed, and why in words: for the log and metrics only, never sent to the client. */
  readonly check: TokenCheck;
  readonly reason: string;
  readonly details: TokenRefusalDetails;
  constructor(check: TokenCheck, reason: string, details: TokenRefusalDetails = {}, options?: ErrorOptions) {
    super('Bad credentials', { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"` }, options);
    this.check = check;
    this.reason = reason;
    this.details = details;
  }
}

/** A valid token without the permission the route needs. */
export class InsufficientPermissionError extends HttpError {
  override readonly name = 'InsufficientPermissionError';
  readonly statusCode = 403;
  readonly code = 'ERR_INSUFFICIENT_PERMISSION';
  constructor(permission: string) {
    super('Permission denied', {
      'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${permission}"`,
    });
  }
}

/** An issuer's signing keys cannot be had right now; the token may well be fine. */
export class KeySetUnavailableError extends HttpError {
  override readonly name = 'KeySetUnavailableError';
  readonly statusCode = 503;
  readonly code = 'ERR_KEY_SET_UNAVAILABLE';
  /** For the log only: whose keys, and the kid the token named. */
  readonly details: { readonly issuer?: string; readonly kid?: string };
  constructor(retryAfterSeconds: number, details: { readonly issuer?: string; readonly kid?: string } = {}, options?: ErrorOptions) {
    super('The signing keys needed to check access tokens are unavailable; try again shortly', {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    }, options);
    this.details = details;
  }
}

export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';
  readonly statusCode = 400;
  readonly code = 'ERR_BAD_REQUEST';
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  readonly statusCode = 404;
  readonly code = 'ERR_NOT_FOUND';
  constructor() {
    super('Not Found');
  }
}

export class MethodNotAllowedError extends HttpError {
  override readonly name = 'MethodNotAllowedError';
  readonly statusCode = 405;
  readonly code = 'ERR_METHOD_NOT_ALLOWED';
  constructor(allow: readonly string[]) {
    super('Method Not Allowed', { allow: allow.join(', ') });
  }
}
