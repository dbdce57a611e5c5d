import { verifyDpopProof } from '../auth/dpop-proof.js';
import { MemoryReplayStore, replayKey } from '../auth/replay-store.js';
import { InvalidDpopProofError } from '../errors/http-errors.js';
import type { OAuthError } from './oauth-params.js';

/**
 * The token endpoint's side of DPoP (RFC 9449 section 5), as Auth0 does it: a request with a valid
 * `DPoP` proof for `POST /oauth/token` gets a token bound to the proof's key (`cnf.jkt`,
 * `token_type: "DPoP"`); a bad proof gets 400 `invalid_dpop_proof`; no proof, a plain Bearer token.
 * The proof checks are the API's own (src/auth/dpop-proof.ts). Checking and recording are two
 * steps: the grant calls `record` only once the client, the grant and the binding are checked, so
 * requests that fail those cannot fill the replay store and lock the real client out (503).
 */
export type TokenRequestBinding =
  | {
      readonly ok: true;
      /** Thumbprint of the proof's key; undefined without a proof. */
      readonly jkt: string | undefined;
      /** Remembers the proof's `jti`: undefined when new (or no proof), else the refusal (a replay, or 503 when full). */
      readonly record: () => Promise<OAuthError | undefined>;
    }
  | { readonly ok: false; readonly error: OAuthError };

/** Replays tracked by the dev tenant: it serves one developer, so a small bound is plenty. */
const REPLAY_MAX_ENTRIES = 10_000;

/** The replay store is full of live proofs: it cannot tell a replay, so the request waits (never a 500). */
class ReplaysFullError extends Error {}

/** @param maxEntries proofs remembered at once (default REPLAY_MAX_ENTRIES); when all are live, 503. */
export function createTokenRequestBinding(
  tokenEndpoint: () => URL,
  maxEntries = REPLAY_MAX_ENTRIES,
): (proof: string | string[] | undefined) => Promise<TokenRequestBinding> {
  const replays = new MemoryReplayStore(maxEntries, () => new ReplaysFullError());
  const refusal = (description: string): OAuthError => ({ status: 400, body: { error: 'invalid_dpop_proof', error_description: description } });
  const invalid = (description: string): TokenRequestBinding => ({ ok: false, error: refusal(description) });
  const full: OAuthError = {
    status: 503,
    body: { error: 'temporarily_unavailable', error_description: 'Too many DPoP proofs at once; try again shortly' },
  };

  return async (proof) => {
    if (proof === undefined) return { ok: true, jkt: undefined, record: () => Promise.resolve(undefined) };
    if (typeof proof !== 'string' || proof === '' || proof.includes(',')) return invalid('Send exactly one DPoP header');
    const endpoint = tokenEndpoint();
    // The tenant advertises localhost; a client may call it as 127.0.0.1 too.
    const origins = new Set([endpoint.origin, `${endpoint.protocol}//127.0.0.1:${endpoint.port}`]);
    const now = Date.now();
    let verified;
    try {
      verified = await verifyDpopProof(proof, { method: 'POST', origins, path: endpoint.pathname, now });
    } catch (error) {
      if (error instanceof InvalidDpopProofError) return invalid(`Invalid DPoP proof (${error.check}): ${error.reason}`);
      throw error;
    }
    const { jkt, jti, expiresAt } = verified;
    const record = async (): Promise<OAuthError | undefined> => {
      try {
        return (await replays.remember(replayKey(jkt, jti), expiresAt, Date.now())) ? undefined : refusal('DPoP proof already used');
      } catch (error) {
        if (error instanceof ReplaysFullError) return full;
        throw error;
      }
    };
    return { ok: true, jkt, record };
  };
}
