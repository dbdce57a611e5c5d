import { createHash } from 'node:crypto';
import { errors as joseErrors } from 'jose';
import { type DpopProofCheck, InvalidDpopProofError } from '../errors/http-errors.js';
import { checkClaims, checkProtectedHeader, claimRules, decodeClaims, decodeProtectedHeader, splitCompactJws, verifySignature } from './compact-jws.js';
import { type ProofKey, type ProofKeyCache, importProofKey } from './dpop-proof-keys.js';
import { proofKeyShapeProblem } from './dpop-proof-key-limits.js';
import { isRecord } from './guards.js';
import { hasPrivateMembers } from './jwks-keys.js';

/**
 * Checks a DPoP proof (RFC 9449 section 4.3) against the request it came with. compact-jws.ts does
 * the JOSE work by jose's rules (signature with node:crypto), jose imports the key (`EmbeddedJWK`)
 * and computes its thumbprint; this module adds the rules jose leaves to the caller. Replay (jti seen before) and the token binding are checked by the caller, who has the
 * store and the token's claims.
 */

/** Asymmetric algorithms a proof may use; never `none` or HS*. auth0-spa-js signs with ES256. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const;

/** How old a proof may be: `iat` no earlier than now - 60 s (minus the skew). */
export const PROOF_MAX_AGE_SECONDS = 60;
/** How far a client's clock may run ahead or behind: `iat` up to now + 5 s; the same 5 s as tokens. */
export const PROOF_CLOCK_SKEW_SECONDS = 5;
/** Longest `jti` taken: a UUID is 36; anything near this is not an identifier. */
export const MAX_JTI_LENGTH = 256;

// Members only a private or symmetric JWK has (RFC 7518 section 6).
const ALGORITHMS: ReadonlySet<string> = new Set(DPOP_ALGORITHMS);
// exp and nbf, should a proof carry them, are checked with the same skew; iat is checked below against the window.
const CLAIM_RULES = claimRules({ typ: 'dpop+jwt', clockTolerance: PROOF_CLOCK_SKEW_SECONDS });

export interface ProofExpectations {
  /** The request method, compared byte for byte with `htm`. */
  readonly method: string;
  /** Origins `htu` may name (normalised, e.g. `https://api.example.com`). */
  readonly origins: ReadonlySet<string>;
  /** The request path without query (as received); compared after RFC 3986 normalisation. */
  readonly path: string;
  /** The access token sent with the proof: `ath` must be its hash. Absent at a token endpoint. */
  readonly accessToken?: string;
  /**
   * Throws UseDpopNonceError unless `nonce` is one this server accepts now; absent when nonces are
   * off. Gets the proof's `iat` (seconds) too: a proof dated ahead may be asked for a nonce alone.
   */
  readonly checkNonce?: (nonce: unknown, iat: number) => void;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Keys already imported, by the header as sent; without it every proof's key is imported anew. */
  readonly keys?: ProofKeyCache;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what `cnf.jkt` must equal. */
  readonly jkt: string;
  readonly jti: string;
  /**
   * How long the replay entry must live (ms since the epoch): until the proof stops being
   * acceptable by its `iat`, plus PROOF_CLOCK_SKEW_SECONDS, so a process sharing the store whose
   * clock is up to that much behind still finds the entry while it would take the proof.
   */
  readonly expiresAt: number;
  /** The proof's `iat`, in ms since the epoch: a replay store refuses proofs from before it started remembering. */
  readonly issuedAt: number;
}

/** Resolves with the proof's thumbprint and jti; rejects with InvalidDpopProofError naming the check, or UseDpopNonceError from `checkNonce`. */
export async function verifyDpopProof(proof: string, expect: ProofExpectations): Promise<VerifiedProof> {
  let parts: { readonly payloadStart: number; readonly signatureStart: number };
  try {
    parts = splitCompactJws(proof);
  } catch (error) {
    throw new InvalidDpopProofError('format', 'not a compact JWS', { cause: error });
  }
  const encodedHeader = proof.slice(0, parts.payloadStart - 1);
  const known = expect.keys?.get(encodedHeader) ?? (await proofKey(proof, parts.payloadStart, expect.keys));
  let payload: Record<string, unknown>;
  try {
    const jws = { header: known.header, alg: known.alg, b64: known.b64, token: proof, ...parts };
    verifySignature(jws, known.key);
    payload = decodeClaims(jws);
    checkClaims(known.header, payload, CLAIM_RULES, expect.now);
  } catch (error) {
    throw refusalFromJose(error);
  }
  const jti = payload['jti'];
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) refuse('jti', 'jti is missing, not a string, or too long');
  if (payload['htm'] !== expect.method) refuse('htm', 'htm is not the request method');
  checkHtu(payload['htu'], expect);
  const iat = payload['iat'];
  if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse('iat', 'iat is missing or not a number');
  const nowSeconds = expect.now / 1000;
  if (iat > nowSeconds + PROOF_CLOCK_SKEW_SECONDS) refuse('iat', 'iat is in the future');
  if (iat < nowSeconds - PROOF_MAX_AGE_SECONDS - PROOF_CLOCK_SKEW_SECONDS) refuse('iat', 'iat is too old');
  if (expect.accessToken !== undefined) {
    if (typeof payload['ath'] !== 'string' || payload['ath'] !== accessTokenHash(expect.accessToken)) {
      refuse('ath', 'ath is missing or not the hash of the access token');
    }
  } else if ('ath' in payload) {
    refuse('ath', 'ath without an access token');
  }
  expect.checkNonce?.(payload['nonce'], iat);
  return { jkt: known.jkt, jti, expiresAt: (iat + PROOF_MAX_AGE_SECONDS + 2 * PROOF_CLOCK_SKEW_SECONDS) * 1000, issuedAt: iat * 1000 };
}

/**
 * A header not seen before: decoded, checked (ours first, to name the check: typ exactly, the alg
 * allow-list, a public jwk; then jose's crit and alg), its key imported; remembered in `keys`.
 */
async function proofKey(proof: string, payloadStart: number, keys: ProofKeyCache | undefined): Promise<ProofKey> {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof, payloadStart);
  } catch (error) {
    throw new InvalidDpopProofError('format', 'not a compact JWS', { cause: error });
  }
  if (header['typ'] !== 'dpop+jwt') refuse('typ', 'typ is not dpop+jwt');
  const alg = header['alg'];
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) refuse('algorithm', 'alg is not an allowed asymmetric algorithm');
  const jwk: unknown = header['jwk'];
  if (!isRecord(jwk)) refuse('jwk', 'jwk header is missing or not an object');
  if (hasPrivateMembers(jwk)) refuse('jwk', 'jwk carries private or symmetric key members');
  // Before jose imports the key or checks the signature: a costly key is refused at no cost.
  const shapeProblem = proofKeyShapeProblem(jwk);
  if (shapeProblem !== undefined) refuse('jwk', shapeProblem);
  let known: ProofKey;
  try {
    known = await importProofKey(header, checkProtectedHeader(header, ALGORITHMS));
  } catch (error) {
    throw refusalFromJose(error);
  }
  keys?.set(proof.slice(0, payloadStart - 1), known);
  return known;
}

/** base64url(SHA-256(ASCII(token))), the `ath` of RFC 9449 section 4.2. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function refuse(check: DpopProofCheck, reason: string): never {
  throw new InvalidDpopProofError(check, reason);
}

function refusalFromJose(error: unknown): Error {
  const options = { cause: error };
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new InvalidDpopProofError('signature', error.message, options);
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new InvalidDpopProofError('algorithm', error.message, options);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new InvalidDpopProofError(error.claim === 'typ' ? 'typ' : error.claim === 'iat' ? 'iat' : 'claims', error.message, options);
  }
  if (error instanceof joseErrors.JWTExpired) return new InvalidDpopProofError('claims', error.message, options);
  if (error instanceof joseErrors.JWSInvalid && /jwk|JWK/.test(error.message)) return new InvalidDpopProofError('jwk', error.message, options);
  if (error instanceof joseErrors.JOSENotSupported) return new InvalidDpopProofError('jwk', error.message, options);
  if (error instanceof joseErrors.JOSEError) return new InvalidDpopProofError('format', error.message, options);
  // Everything checked here comes from the proof, so any other error is an unusable key: a
  // TypeError (an RSA modulus under 2048 bits, a key not for verifying), WebCrypto's DOMException (a
  // curve that does not match alg, a point off the curve). Found by the proof fuzzer: these were 500s.
  return new InvalidDpopProofError('jwk', error instanceof Error ? error.message : String(error), options);
}

// Unreserved characters (RFC 3986 section 2.3): their percent-encodings are decoded when normalising.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 3986 section 6.2.2.2: decode percent-encoded unreserved characters, upper-case the others. */
export function normalizePercentEncoding(path: string): string {
  return path.replace(/%[0-9a-fA-F]{2}/g, (match) => {
    const char = String.fromCharCode(Number.parseInt(match.slice(1), 16));
    return UNRESERVED.test(char) ? char : match.toUpperCase();
  });
}

/** The request path as a normalised URL path (dot segments removed, percent-encoding normalised). */
export function normalizedRequestPath(path: string): string {
  // Parsed under a fixed origin, so a path such as //evil.example/x stays a path.
  return normalizePercentEncoding(new URL(`http://request.invalid${path.startsWith('/') ? '' : '/'}${path}`).pathname);
}

/**
 * htu: an absolute http(s) URL without query or fragment, whose origin is one of ours and whose
 * path, normalised (RFC 3986 section 6: case of scheme and host, default port, dot segments,
 * percent-encoding), is the request's. Never compared with the Host header.
 */
function checkHtu(htu: unknown, expect: ProofExpectations): void {
  if (typeof htu !== 'string') refuse('htu', 'htu is missing or not a string');
  const parsed = remembered(parsedHtus, htu, parseHtu);
  if (typeof parsed === 'string') refuse('htu', parsed);
  if (!expect.origins.has(parsed.origin)) refuse('htu', 'htu names another origin');
  if (parsed.path !== remembered(requestPaths, expect.path, normalizedRequestPath)) refuse('htu', 'htu names another path');
}

/** The origin and normalised path of an htu, or why it is refused. */
function parseHtu(htu: string): { readonly origin: string; readonly path: string } | string {
  if (htu.includes('?') || htu.includes('#')) return 'htu carries a query or fragment';
  let url: URL;
  try {
    url = new URL(htu);
  } catch {
    return 'htu is not a URL';
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    return 'htu is not a plain http(s) URL';
  }
  return { origin: url.origin, path: normalizePercentEncoding(url.pathname) };
}

// A client names the same htu on every request, for the same few paths: parsing them (two URL
// parses, ~5 µs) is done once per text. Pure functions of the text; each map is emptied when full.
const MAX_REMEMBERED = 1_000;
const parsedHtus = new Map<string, ReturnType<typeof parseHtu>>();
const requestPaths = new Map<string, string>();

function remembered<T>(memo: Map<string, T>, text: string, compute: (text: string) => T): T {
  const known = memo.get(text);
  if (known !== undefined) return known;
  const value = compute(text);
  if (memo.size >= MAX_REMEMBERED) memo.clear();
  memo.set(text, value);
  return value;
}
