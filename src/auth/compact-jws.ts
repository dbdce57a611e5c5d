import { type KeyObject, type VerifyKeyObjectInput, KeyObject as KeyObjects, constants, verify } from 'node:crypto';
import { type CryptoKey, base64url, errors } from 'jose';
import { isRecord } from './guards.js';

/**
 * The JOSE rules of a compact JWS/JWT, checked synchronously with node:crypto: the one place where
 * access tokens and DPoP proofs are parsed, their signatures verified and their claims checked.
 *
 * Why not jose's jwtVerify: jose 6 verifies through WebCrypto only, which Node runs as an async job;
 * on the bench machine (Node 20) an RS256 jwtVerify cost 175–216 µs of CPU against 47 µs for
 * `crypto.verify` on a KeyObject (ES256 ~200 µs against ~92 µs). jose still does what it does well:
 * importing and checking JWKs (importJWK, EmbeddedJWK), thumbprints; `bindKey` turns its CryptoKey
 * into a KeyObject once per key.
 *
 * Every step follows jose 6.2's verifyCompact and validateClaimsSet in the same order and throws
 * jose's own error classes, so a caller maps refusals as before, and test/security/differential.test.ts
 * checks on generated tokens that jose and this module accept and refuse the same inputs.
 */

const { JOSEAlgNotAllowed, JOSENotSupported, JWSInvalid, JWSSignatureVerificationFailed, JWTClaimValidationFailed, JWTExpired, JWTInvalid } = errors;

/** How node:crypto checks each algorithm, and what WebCrypto key jose imports for it. */
interface AlgorithmEntry {
  readonly hash: string | null;
  readonly padding?: number;
  readonly saltLength?: number;
  readonly dsaEncoding?: 'ieee-p1363';
  /** The CryptoKey jose imports for this alg: algorithm name, and hash or curve. */
  readonly name: string;
  readonly hashName?: string;
  readonly namedCurve?: string;
  readonly minRsaBits?: number;
}

const rsa = (bits: number, pss: boolean): AlgorithmEntry => ({
  hash: `sha${bits}`,
  name: pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5',
  hashName: `SHA-${bits}`,
  minRsaBits: 2048,
  // JWS PS* use a salt as long as the hash (RFC 7518 section 3.5).
  ...(pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 } : { padding: constants.RSA_PKCS1_PADDING }),
});
// JWS ECDSA signatures are r || s (RFC 7518 section 3.4), not DER.
const ecdsa = (bits: number, namedCurve: string): AlgorithmEntry => ({ hash: `sha${bits}`, name: 'ECDSA', namedCurve, dsaEncoding: 'ieee-p1363' });
const eddsa: AlgorithmEntry = { hash: null, name: 'Ed25519' };

const ALGORITHMS: ReadonlyMap<string, AlgorithmEntry> = new Map([
  ['RS256', rsa(256, false)], ['RS384', rsa(384, false)], ['RS512', rsa(512, false)],
  ['PS256', rsa(256, true)], ['PS384', rsa(384, true)], ['PS512', rsa(512, true)],
  ['ES256', ecdsa(256, 'P-256')], ['ES384', ecdsa(384, 'P-384')], ['ES512', ecdsa(512, 'P-521')],
  ['EdDSA', eddsa], ['Ed25519', eddsa],
]);

/** A public key imported once and bound to the one algorithm it verifies. */
export interface BoundKey {
  readonly alg: string;
  readonly hash: string | null;
  readonly input: VerifyKeyObjectInput;
}

/**
 * `key` (imported by jose for `alg`) as a KeyObject for node:crypto, after the checks jose makes
 * before each verification: a public key of the algorithm, hash and curve `alg` names, usable to
 * verify, and RSA of at least 2048 bits. Throws TypeError otherwise, as jose does.
 */
export function bindKey(alg: string, key: CryptoKey): BoundKey {
  const entry = ALGORITHMS.get(alg);
  if (entry === undefined) throw new JOSENotSupported(`alg ${alg} is not supported`);
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number };
  if (key.type !== 'public') throw new TypeError(`CryptoKey instances must be of type "public" for the ${alg} algorithm`);
  if (algorithm.name !== entry.name) throw new TypeError(`CryptoKey does not support this operation, its algorithm.name must be ${entry.name}`);
  if (entry.hashName !== undefined && algorithm.hash?.name !== entry.hashName) throw new TypeError(`CryptoKey does not support this operation, its algorithm.hash must be ${entry.hashName}`);
  if (entry.namedCurve !== undefined && algorithm.namedCurve !== entry.namedCurve) throw new TypeError(`CryptoKey does not support this operation, its algorithm.namedCurve must be ${entry.namedCurve}`);
  if (!key.usages.includes('verify')) throw new TypeError('CryptoKey does not support this operation, its usages must include verify.');
  if (entry.minRsaBits !== undefined && (typeof algorithm.modulusLength !== 'number' || algorithm.modulusLength < entry.minRsaBits)) {
    throw new TypeError(`${alg} requires key modulusLength to be 2048 bits or larger`);
  }
  const keyObject: KeyObject = KeyObjects.from(key);
  // One options object per key, made once: nothing is allocated for it per verification.
  const input: VerifyKeyObjectInput = { key: keyObject, ...(entry.padding !== undefined && { padding: entry.padding }), ...(entry.saltLength !== undefined && { saltLength: entry.saltLength }), ...(entry.dsaEncoding !== undefined && { dsaEncoding: entry.dsaEncoding }) };
  return { alg, hash: entry.hash, input };
}

/** A compact JWS whose protected header passed jose's checks; the signature is not checked yet. */
export interface CompactJws {
  readonly header: Record<string, unknown>;
  readonly alg: string;
  /** False only for `crit: ["b64"]` with `b64: false`: refused after the signature, as jwtVerify does. */
  readonly b64: boolean;
  /** The token's text, and where its payload and signature segments start. */
  readonly token: string;
  readonly payloadStart: number;
  readonly signatureStart: number;
}

// Canonical base64url without padding: decoded here; anything else goes to jose's own decoder, so
// whatever it accepts (or refuses) is accepted (or refused) here too.
const PLAIN_BASE64URL = /^[A-Za-z0-9_-]*$/;
// jose decodes JSON with a strict UTF-8 decoder: invalid UTF-8 is refused, a BOM is skipped.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** base64url bytes as jose decodes them; throws TypeError. */
function decodeSegment(segment: string): Uint8Array {
  if (segment.length % 4 !== 1 && PLAIN_BASE64URL.test(segment)) return Buffer.from(segment, 'base64url');
  return base64url.decode(segment);
}

/** JSON bytes holding an object, or undefined. */
function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(strictUtf8.decode(bytes));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A base64url segment holding a JSON object, or undefined. */
function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  let bytes: Uint8Array;
  try {
    bytes = decodeSegment(segment);
  } catch {
    return undefined;
  }
  return parseJsonObject(bytes);
}

/** The claims of a JWT, unverified, as jose's decodeJwt reads them; throws JWTInvalid. */
export function decodeUnverifiedClaims(token: string): Record<string, unknown> {
  const payloadStart = token.indexOf('.') + 1;
  const signatureStart = token.indexOf('.', payloadStart) + 1;
  if (payloadStart === 0 || signatureStart === 0 || token.includes('.', signatureStart)) throw new JWTInvalid('Invalid JWT');
  if (signatureStart - payloadStart === 1) throw new JWTInvalid('JWTs must contain a payload');
  const claims = decodeJsonObject(token.slice(payloadStart, signatureStart - 1));
  if (claims === undefined) throw new JWTInvalid('Invalid JWT Claims Set');
  return claims;
}

/** Where the payload and signature segments of a compact JWS start; throws JWSInvalid unless it has three. */
export function splitCompactJws(token: string): { readonly payloadStart: number; readonly signatureStart: number } {
  const payloadStart = token.indexOf('.') + 1;
  const signatureStart = token.indexOf('.', payloadStart) + 1;
  if (payloadStart === 0 || signatureStart === 0 || token.includes('.', signatureStart)) throw new JWSInvalid('Invalid Compact JWS');
  return { payloadStart, signatureStart };
}

/** The protected header of a split compact JWS: a JSON object, else JWSInvalid. */
export function decodeProtectedHeader(token: string, payloadStart: number): Record<string, unknown> {
  const header = decodeJsonObject(token.slice(0, payloadStart - 1));
  if (header === undefined) throw new JWSInvalid('JWS Protected Header is invalid');
  return header;
}

/**
 * The checks jose makes on a protected header before it resolves the key: `crit` (only `b64` is
 * understood), `alg` a non-empty string among `algorithms`. Throws JWSInvalid, JOSENotSupported or
 * JOSEAlgNotAllowed.
 */
export function checkProtectedHeader(header: Record<string, unknown>, algorithms: ReadonlySet<string>): { readonly alg: string; readonly b64: boolean } {
  const b64 = checkCrit(header);
  const { alg } = header;
  if (typeof alg !== 'string' || alg === '') throw new JWSInvalid('JWS "alg" (Algorithm) Header Parameter missing or invalid');
  if (!algorithms.has(alg)) throw new JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  return { alg, b64 };
}

/** A compact JWS split and its protected header checked, as jose does before it resolves the key. */
export function parseCompactJws(token: string, algorithms: ReadonlySet<string>): CompactJws {
  const { payloadStart, signatureStart } = splitCompactJws(token);
  const header = decodeProtectedHeader(token, payloadStart);
  const { alg, b64 } = checkProtectedHeader(header, algorithms);
  return { header, alg, b64, token, payloadStart, signatureStart };
}

/** jose's validateCrit and validateB64 for a compact JWS: the payload is base64url unless crit says b64 is false. */
function checkCrit(header: Record<string, unknown>): boolean {
  const { crit } = header;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((member) => typeof member !== 'string' || member === '')) {
    throw new JWSInvalid('"crit" (Critical) Header Parameter MUST be an array of non-empty strings when present');
  }
  for (const parameter of crit as string[]) {
    if (parameter !== 'b64') throw new JOSENotSupported(`Extension Header Parameter "${parameter}" is not recognized`);
    if (!Object.hasOwn(header, 'b64') || header['b64'] === undefined) throw new JWSInvalid('Extension Header Parameter "b64" is missing');
  }
  const { b64 } = header;
  if (typeof b64 !== 'boolean') throw new JWSInvalid('The "b64" (base64url-encode payload) Header Parameter must be a boolean');
  return b64;
}

/**
 * Verifies the signature with `key`. Throws JWSSignatureVerificationFailed, JWSInvalid (bad
 * base64url, a signing input that is not ASCII) or JWTInvalid (an unencoded payload, which JWTs may
 * not use).
 */
export function verifySignature(jws: CompactJws, key: BoundKey): void {
  if (key.alg !== jws.alg) throw new JOSEAlgNotAllowed('the key is not for this "alg"');
  const { token, signatureStart } = jws;
  let signature: Uint8Array;
  try {
    signature = decodeSegment(token.slice(signatureStart));
  } catch (cause) {
    throw new JWSInvalid('Failed to base64url decode the signature', { cause });
  }
  const signingInput = Buffer.from(token.slice(0, signatureStart - 1), 'utf8');
  // jose encodes the signing input as ASCII and refuses anything else: only then is it one byte a character.
  if (signingInput.length !== signatureStart - 1) throw new JWSInvalid('The payload is not a valid base64url string');
  let verified = false;
  try {
    verified = verify(key.hash, signingInput, key.input, signature);
  } catch (cause) {
    throw new JWSSignatureVerificationFailed(undefined, { cause });
  }
  if (!verified) throw new JWSSignatureVerificationFailed();
  if (!jws.b64) throw new JWTInvalid('JWTs MUST NOT use unencoded payload');
}

/** The claims of a verified JWS: a JSON object. Throws JWSInvalid (bad base64url) or JWTInvalid. */
export function decodeClaims(jws: CompactJws): Record<string, unknown> {
  let payload: Uint8Array;
  try {
    payload = decodeSegment(jws.token.slice(jws.payloadStart, jws.signatureStart - 1));
  } catch (cause) {
    throw new JWSInvalid('Failed to base64url decode the payload', { cause });
  }
  const claims = parseJsonObject(payload);
  if (claims === undefined) throw new JWTInvalid('JWT Claims Set must be a top-level JSON object');
  return claims;
}

export interface ClaimOptions {
  /** Compared as jose does: case-insensitive, `application/` optional. */
  readonly typ?: string;
  readonly issuer?: string;
  /** `aud` must be it, or an array containing it. */
  readonly audience?: string;
  readonly requiredClaims?: readonly string[];
  /** Seconds of leeway for exp and nbf. */
  readonly clockTolerance: number;
}

/** ClaimOptions with what jose derives from them per call worked out once. */
export interface ClaimRules extends ClaimOptions {
  /** The claims that must be present, in the order jose checks them. */
  readonly presence: readonly string[];
  /** `typ` normalised as jose compares it. */
  readonly normalizedTyp?: string;
}

/** The rules for checkClaims, made once (at start), so a check allocates nothing for them. */
export function claimRules(options: ClaimOptions): ClaimRules {
  const presence = [...(options.requiredClaims ?? [])];
  if (options.audience !== undefined) presence.push('aud');
  if (options.issuer !== undefined) presence.push('iss');
  return { ...options, presence: [...new Set(presence.reverse())], ...(options.typ !== undefined && { normalizedTyp: normalizeTyp(options.typ) }) };
}

const normalizeTyp = (value: string): string => (value.includes('/') ? value.toLowerCase() : `application/${value.toLowerCase()}`);

/**
 * jose's validateClaimsSet, same order: typ, presence, iss, aud, iat type, nbf, exp; `nowMs` in
 * milliseconds since the epoch. Throws JWTClaimValidationFailed or JWTExpired.
 */
export function checkClaims(header: Record<string, unknown>, claims: Record<string, unknown>, rules: ClaimRules, nowMs: number): void {
  const { normalizedTyp, issuer, audience } = rules;
  if (normalizedTyp !== undefined && (typeof header['typ'] !== 'string' || normalizeTyp(header['typ']) !== normalizedTyp)) {
    claimFailed(claims, 'unexpected "typ" JWT header value', 'typ');
  }
  for (const claim of rules.presence) {
    if (!Object.hasOwn(claims, claim)) claimFailed(claims, `missing required "${claim}" claim`, claim, 'missing');
  }
  if (issuer !== undefined && claims['iss'] !== issuer) claimFailed(claims, 'unexpected "iss" claim value', 'iss');
  if (audience !== undefined) {
    const { aud } = claims;
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) claimFailed(claims, 'unexpected "aud" claim value', 'aud');
  }
  const now = Math.floor(nowMs / 1000);
  const tolerance = rules.clockTolerance;
  numericDate(claims, 'iat');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > now + tolerance) claimFailed(claims, '"nbf" claim timestamp check failed', 'nbf');
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && exp <= now - tolerance) throw new JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
}

function claimFailed(claims: Record<string, unknown>, message: string, claim: string, reason = 'check_failed'): never {
  throw new JWTClaimValidationFailed(message, claims, claim, reason);
}

/** A NumericDate claim: absent, or a number (jose takes any JSON number). */
function numericDate(claims: Record<string, unknown>, claim: string): number | undefined {
  const value = claims[claim];
  if (value === undefined || typeof value === 'number') return value;
  return claimFailed(claims, `"${claim}" claim must be a number`, claim, 'invalid');
}
