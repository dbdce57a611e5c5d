import { createHash, timingSafeEqual } from 'node:crypto';

/** PKCE (RFC 7636) with S256 only, as the SPA SDK uses it; `plain` would let a stolen code be redeemed. */

export const PKCE_METHOD = 'S256';

/** §4.1: 43-128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** base64url of a SHA-256 digest: 43 characters, no padding. */
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isCodeChallenge(value: string): boolean {
  return CODE_CHALLENGE.test(value);
}

export function codeChallengeFor(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** True when `verifier` is well-formed and hashes to `challenge`. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!CODE_VERIFIER.test(verifier) || !isCodeChallenge(challenge)) return false;
  return timingSafeEqual(Buffer.from(codeChallengeFor(verifier)), Buffer.from(challenge));
}
