import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DpopConfig } from '../config/dpop-config.js';
import {
  type AuthChallenge,
  InvalidDpopProofError,
  MalformedAuthorizationError,
  MissingTokenError,
} from '../errors/http-errors.js';
import { type PresentedToken, schemeOf } from './authorization-header.js';
import { createChallengeBuilder } from './challenges.js';
import type { DpopNonces } from './dpop-nonce.js';
import { ProofKeyCache } from './dpop-proof-keys.js';
import { DPOP_ALGORITHMS, verifyDpopProof } from './dpop-proof.js';
import { type ReplayStore, replayKey } from './replay-store.js';
import { checkDpopBinding } from './token-binding.js';
import type { AccessTokenClaims, TokenVerifier } from './token-verifier.js';

export interface Authenticator {
  /**
   * The claims of the presented token, sent as Bearer or as DPoP with its proof, as the DPoP mode
   * allows; for DPoP, the proof is checked and bound to the token. The caller refuses a bound token
   * sent as Bearer (refuseBoundBearer). A Bearer token whose key is held fresh is answered without
   * a promise (TokenVerifier.check); DPoP, and a token whose key must be fetched, give a promise.
   * Throws or rejects with an HttpError: 400/401 (with `challenge`), 503 (keys or replay store).
   */
  claimsFor(presented: PresentedToken, request: FastifyRequest, reply: FastifyReply): AccessTokenClaims | Promise<AccessTokenClaims>;
  /**
   * The fast path: for `Authorization: Bearer <token>` written exactly so (one space, nothing
   * after) and a token the verified-token cache holds and still trusts, its claims; otherwise
   * undefined and the caller takes the full path (`parseAuthorization`, `claimsFor`). A cached token
   * passed every check of that path before, so its syntax needs no second look.
   */
  cachedBearerClaims(authorization: string | undefined): AccessTokenClaims | undefined;
  /** The WWW-Authenticate value for a refusal, for the scheme named in `authorization`. */
  challenge(challenge: AuthChallenge, authorization: string | undefined): string;
}

export interface AuthenticatorOptions {
  readonly verifier: TokenVerifier;
  readonly dpop: DpopConfig;
  /** RFC 9728 metadata URL, named by `resource_metadata` in every challenge (src/http/protected-resource.ts). */
  readonly resourceMetadataUrl: string;
  readonly replayStore: ReplayStore;
  /** Present when server nonces are on (DPOP_NONCE=required). */
  readonly nonces: DpopNonces | null;
  /**
   * Without DPOP_NONCE and with the in-memory replay store: nonces of this process alone (a random
   * secret), asked of a proof dated ahead of this process's clock. So a proof accepted without one
   * was made no later than it was accepted, and after a restart every proof made since the start is
   * new: the store needs no margin of future skew, and fresh proofs pass from the first request.
   */
  readonly futureProofNonces?: DpopNonces | null;
  /** Milliseconds since the epoch (injected for tests). */
  readonly now?: () => number;
}

/**
 * Combines the scheme, the proof, the token's claims and the binding (RFC 9449 section 7):
 * - Bearer (unless DPOP=required): the token is verified (and refused by the caller if it carries `cnf`);
 * - DPoP (unless DPOP=disabled): exactly one DPoP header, a valid proof for this request, the
 *   token verified and bound to the proof's key, and the proof never seen before.
 * The Bearer path does no more work than before DPoP: one header parse, the verifier's check, one property test.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { verifier, dpop, replayStore, nonces } = options;
  const now = options.now ?? Date.now;
  const bearerAllowed = dpop.mode !== 'required';
  const dpopAllowed = dpop.mode !== 'disabled';
  const origins: ReadonlySet<string> = new Set(dpop.origins);
  const futureProofNonces = options.futureProofNonces ?? null;
  const checkNonce = nonces === null ? undefined : (nonce: unknown) => { nonces.check(nonce); };
  /** For a proof checked at `at` (ms): a nonce of this process when its iat is ahead of `at`. */
  const checkFutureNonce = (at: number) => (nonce: unknown, iat: number) => {
    if (iat * 1000 > at) futureProofNonces?.check(nonce);
  };
  const buildChallenge = createChallengeBuilder(dpop.mode, DPOP_ALGORITHMS, options.resourceMetadataUrl);
  const keys = new ProofKeyCache();

  async function authenticateDpop(request: FastifyRequest, reply: FastifyReply, token: string): Promise<AccessTokenClaims> {
    const proof = request.headers.dpop;
    if (proof === undefined || proof === '') throw new MalformedAuthorizationError('A DPoP request needs a DPoP header with the proof');
    // Node joins repeated headers with ", "; a compact JWS never holds a comma.
    if (typeof proof !== 'string' || proof.includes(',')) throw new MalformedAuthorizationError('A DPoP request takes exactly one DPoP header');
    const at = now();
    const verified = await verifyDpopProof(proof, {
      method: request.method,
      origins,
      path: requestPath(request.url),
      accessToken: token,
      ...(checkNonce !== undefined ? { checkNonce } : futureProofNonces !== null && { checkNonce: checkFutureNonce(at) }),
      now: at,
      keys,
    });
    // A client's token is the same on every request: the cache answers it without another promise.
    const claims = verifier.cachedClaims(token) ?? (await verifier.verify(token));
    checkDpopBinding(claims, verified.jkt);
    // Last, so only proofs that pass every other check take room in the store.
    const source = { jkt: verified.jkt, issuedAt: verified.issuedAt };
    if (!(await replayStore.remember(replayKey(verified.jkt, verified.jti), verified.expiresAt, at, source))) {
      throw new InvalidDpopProofError('replay', 'this proof was already used');
    }
    if (nonces !== null) reply.header('dpop-nonce', nonces.current());
    return claims;
  }

  return {
    cachedBearerClaims(authorization) {
      if (!bearerAllowed || authorization?.startsWith(BEARER_PREFIX) !== true) return undefined;
      return verifier.cachedClaims(authorization.slice(BEARER_PREFIX.length));
    },
    // Not async: the Bearer path hands back the verifier's answer, claims or its own promise.
    claimsFor({ scheme, token }, request, reply) {
      if (scheme === 'bearer' && bearerAllowed) return verifier.check(token);
      if (scheme === 'dpop' && dpopAllowed) return authenticateDpop(request, reply, token);
      // A scheme this mode does not take: answered like no credentials, with the challenge of the one it does.
      throw new MissingTokenError();
    },
    challenge(challenge, authorization) {
      return buildChallenge(challenge, schemeOf(authorization));
    },
  };
}

/** The one spelling the fast path takes; every other one (case, spaces) goes the full way. */
const BEARER_PREFIX = 'Bearer ';

/**
 * The path of the request target, without query. Origin-form (`/path`) as is; absolute-form
 * (`https://host/path`, RFC 9112 section 3.2.2), which Fastify routes by its path, gives its path:
 * its authority is ignored like the Host header, the origin of `htu` comes from API_ORIGIN.
 */
function requestPath(url: string): string {
  const queryStart = url.indexOf('?');
  const target = queryStart === -1 ? url : url.slice(0, queryStart);
  if (target.startsWith('/') || !URL.canParse(target)) return target;
  return new URL(target).pathname;
}

