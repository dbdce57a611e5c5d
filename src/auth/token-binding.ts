import type { JWTPayload } from 'jose';
import { DpopBindingError } from '../errors/http-errors.js';
import { isRecord } from './guards.js';

/**
 * A token bound to a key (`cnf`, RFC 7800) is only ever taken with proof of that key. Throws
 * DpopBindingError for a bound token sent as Bearer: `cnf.jkt` (DPoP) and any confirmation this
 * API cannot check (an mTLS `x5t#S256`) alike. Runs on every Bearer request, cached tokens too.
 */
export function refuseBoundBearer(claims: JWTPayload): void {
  if (claims.cnf !== undefined) throw new DpopBindingError('bound_token_as_bearer', 'a token with a cnf claim was sent as Bearer');
}

/** Throws DpopBindingError unless the token's `cnf` is exactly `{jkt}` with `jkt` the thumbprint of the proof's key. */
export function checkDpopBinding(claims: JWTPayload, jkt: string): void {
  const cnf: unknown = claims.cnf;
  if (cnf === undefined) throw new DpopBindingError('unbound_token_as_dpop', 'DPoP scheme for a token without cnf.jkt');
  if (!isRecord(cnf) || typeof cnf['jkt'] !== 'string') {
    throw new DpopBindingError('confirmation', 'cnf has no string jkt (another confirmation method, or malformed)');
  }
  // One cnf names one key (RFC 7800 section 3.1): another member beside jkt (an mTLS x5t#S256...)
  // is a confirmation this API cannot check, so the DPoP key alone does not open the token.
  if (Object.keys(cnf).length !== 1) {
    throw new DpopBindingError('confirmation', 'cnf holds another confirmation beside jkt');
  }
  if (cnf['jkt'] !== jkt) throw new DpopBindingError('thumbprint', 'cnf.jkt is not the thumbprint of the proof key');
}
