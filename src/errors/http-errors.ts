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
  | 'ERR_INVALID_DPOP_PROOF'
  | 'ERR_USE_DPOP_NONCE'
  | 'ERR_DPOP_BINDING'
  | 'ERR_REPLAY_STORE_UNAVAILABLE'
  | 'ERR_DPOP_KEY_SHARE_FULL'
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

/**
 * Which check refused a DPoP proof (RFC 9449 section 4.3), a closed set like TokenCheck. The client
 * only sees `error="invalid_dpop_proof"`.
 */
export type DpopProofCheck =
  | 'format' // not a compact JWS, or a part that does not decode
  | 'typ' // typ is not exactly dpop+jwt
  | 'algorithm' // alg not in the asymmetric allow-list
  | 'jwk' // jwk missing, not a public key, private members, key jose refuses
  | 'signature' // does not verify with its own jwk
  | 'htm' // not the request method, byte for byte
  | 'htu' // not the URL called (origin allow-list + path), or carries a query/fragment
  | 'iat' // missing, not a number, or outside the window
  | 'jti' // missing, not a string, or too long
  | 'ath' // not base64url(SHA-256(access token))
  | 'nonce' // a nonce that this server did not issue, or one that has expired
  | 'replay' // this proof (jkt + jti) was already accepted within the window
  | 'store_restart' // iat before the replay store started remembering (plus the skew): it may have been accepted before
  | 'claims'; // another claim jose refuses (exp in the past, nbf in the future...)

/** Why a token and the way it was sent do not fit together: for the log and metrics only. */
export type DpopBindingCheck =
  | 'bound_token_as_bearer' // a token with `cnf` sent as `Bearer`
  | 'unbound_token_as_dpop' // `DPoP` scheme for a token without `cnf.jkt`
  | 'thumbprint' // cnf.jkt is not the thumbprint of the proof's key
  | 'confirmation'; // cnf is not an object, or a jkt that is not a string

/** What a 401/403 asks of the client; src/auth/challenges.ts turns it into WWW-Authenticate for the DPoP mode. */
export interface AuthChallenge {
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';
  /** The scheme the error belongs to; by default the one the request used. */
  readonly scheme?: 'bearer' | 'dpop';
  readonly scope?: string;
}

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
  /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
  readonly headers: Readonly<Record<string, string>>;
  /** Set on refusals of credentials: the authorize hook adds the WWW-Authenticate it implies. */
  readonly challenge?: AuthChallenge;

  /** Each subclass fixes its status and code; `message` is the whole public `{"message"}` body. */
  constructor(
    readonly statusCode: number,
    readonly code: HttpErrorCode,
    message: string,
    headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.headers = headers;
  }
}

/** The Retry-After header of a 429 or 503: whole seconds, at least 1. */
function retryAfter(seconds: number): Readonly<Record<string, string>> {
  return { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
}

/** The realm named in every WWW-Authenticate challenge (RFC 6750 section 3). */
export const REALM = 'api';

/** No credentials at all (no Authorization header, or another scheme such as Basic). */
export class MissingTokenError extends HttpError {
  override readonly name = 'MissingTokenError';
  override readonly challenge = {};
  constructor() {
    super(401, 'ERR_MISSING_TOKEN', 'Requires authentication');
  }
}

/**
 * An Authorization header that cannot hold a token (empty, extra parts, characters a JWT never
 * has), more than one Authorization header, or a DPoP request without exactly one DPoP header.
 */
export class MalformedAuthorizationError extends HttpError {
  override readonly name = 'MalformedAuthorizationError';
  override readonly challenge = { error: 'invalid_request' } as const;
  constructor(message: string) {
    super(400, 'ERR_MALFORMED_AUTHORIZATION', message);
  }
}

/** Bad signature, expired, wrong issuer or audience, unknown key, not a JWT: all look the same outside. */
export class InvalidTokenError extends HttpError {
  override readonly name = 'InvalidTokenError';
  /** Which check failed, and why in words: for the log and metrics only, never sent to the client. */
  readonly check: TokenCheck;
  readonly reason: string;
  readonly details: TokenRefusalDetails;
  override readonly challenge = { error: 'invalid_token' } as const;
  constructor(check: TokenCheck, reason: string, details: TokenRefusalDetails = {}, options?: ErrorOptions) {
    super(401, 'ERR_INVALID_TOKEN', 'Bad credentials', {}, options);
    this.check = check;
    this.reason = reason;
    this.details = details;
  }
}

/** A valid token without the permission the route needs. */
export class InsufficientPermissionError extends HttpError {
  override readonly name = 'InsufficientPermissionError';
  override readonly challenge: AuthChallenge;
  constructor(permission: string) {
    super(403, 'ERR_INSUFFICIENT_PERMISSION', 'Permission denied');
    this.challenge = { error: 'insufficient_scope', scope: permission };
  }
}

/** An issuer's signing keys cannot be had right now; the token may well be fine. */
export class KeySetUnavailableError extends HttpError {
  override readonly name = 'KeySetUnavailableError';
  /** For the log only: whose keys, and the kid the token named. */
  readonly details: { readonly issuer?: string; readonly kid?: string };
  constructor(retryAfterSeconds: number, details: { readonly issuer?: string; readonly kid?: string } = {}, options?: ErrorOptions) {
    super(503, 'ERR_KEY_SET_UNAVAILABLE', 'The signing keys needed to check access tokens are unavailable; try again shortly', retryAfter(retryAfterSeconds), options);
    this.details = details;
  }
}

/** A DPoP proof that fails a check of RFC 9449 section 4.3 (replay included). */
export class InvalidDpopProofError extends HttpError {
  override readonly name = 'InvalidDpopProofError';
  override readonly challenge = { error: 'invalid_dpop_proof', scheme: 'dpop' } as const;
  /** For the log and metrics only; the client sees "Bad credentials". */
  readonly check: DpopProofCheck;
  readonly reason: string;
  constructor(check: DpopProofCheck, reason: string, options?: ErrorOptions) {
    super(401, 'ERR_INVALID_DPOP_PROOF', 'Bad credentials', {}, options);
    this.check = check;
    this.reason = reason;
  }
}

/** The server wants a nonce in the proof (RFC 9449 section 8): retry with the one in DPoP-Nonce. */
export class UseDpopNonceError extends HttpError {
  override readonly name = 'UseDpopNonceError';
  override readonly challenge = { error: 'use_dpop_nonce', scheme: 'dpop' } as const;
  readonly check: 'missing' | 'stale';
  constructor(nonce: string, check: 'missing' | 'stale') {
    super(401, 'ERR_USE_DPOP_NONCE', 'Bad credentials', { 'dpop-nonce': nonce });
    this.check = check;
  }
}

/** A valid token presented the wrong way: bound but sent as Bearer, or bound to another key. */
export class DpopBindingError extends HttpError {
  override readonly name = 'DpopBindingError';
  override readonly challenge = { error: 'invalid_token' } as const;
  readonly check: DpopBindingCheck;
  readonly reason: string;
  constructor(check: DpopBindingCheck, reason: string) {
    super(401, 'ERR_DPOP_BINDING', 'Bad credentials');
    this.check = check;
    this.reason = reason;
  }
}

/** The replay store (Redis, or a full in-memory store) cannot record the proof: never let it through unchecked. */
export class ReplayStoreUnavailableError extends HttpError {
  override readonly name = 'ReplayStoreUnavailableError';
  /** @param retryAfterSeconds when to try again (default 1: Redis reconnects within a second or two). */
  constructor(options?: ErrorOptions, retryAfterSeconds = 1) {
    super(503, 'ERR_REPLAY_STORE_UNAVAILABLE', 'DPoP proofs cannot be checked for replay right now; try again shortly', retryAfter(retryAfterSeconds), options);
  }
}

/**
 * One proof key holds its whole share of the replay store (DPOP_REPLAY_MAX_PER_KEY live proofs):
 * its proofs wait until its oldest entry lapses, so it cannot fill the store for everyone else.
 */
export class DpopKeyShareFullError extends HttpError {
  override readonly name = 'DpopKeyShareFullError';
  constructor(retryAfterSeconds: number) {
    super(429, 'ERR_DPOP_KEY_SHARE_FULL', 'Too many DPoP proofs with this key; try again later', retryAfter(retryAfterSeconds));
  }
}

export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';
  constructor(message: string) {
    super(400, 'ERR_BAD_REQUEST', message);
  }
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  constructor() {
    super(404, 'ERR_NOT_FOUND', 'Not Found');
  }
}

export class MethodNotAllowedError extends HttpError {
  override readonly name = 'MethodNotAllowedError';
  constructor(allow: readonly string[]) {
    super(405, 'ERR_METHOD_NOT_ALLOWED', 'Method Not Allowed', { allow: allow.join(', ') });
  }
}
