import {
  DpopBindingError,
  type DpopBindingCheck,
  type DpopProofCheck,
  type HttpError,
  InvalidDpopProofError,
  InvalidTokenError,
  type TokenCheck,
} from '../errors/http-errors.js';

/**
 * Why a request was refused authentication or access: the `reason` label of auth_refusals_total.
 * A closed set (each part is a closed union), so the label's cardinality is bounded.
 */
export type RefusalReason =
  | 'missing'
  | 'malformed'
  | TokenCheck
  | `dpop_${DpopProofCheck}`
  | 'dpop_use_nonce'
  | `dpop_${DpopBindingCheck}`
  | 'permission'
  | 'keys_unavailable'
  | 'replay_store_unavailable'
  | 'dpop_key_share_full';

/**
 * The refusal reason of an error the API answers with, or null for errors that are not about
 * credentials (400, 404, 405). One switch over every HttpErrorCode: a new code does not compile
 * until it is given a reason here (or null).
 */
export function refusalReason(error: HttpError): RefusalReason | null {
  const code = error.code;
  switch (code) {
    case 'ERR_MISSING_TOKEN':
      return 'missing';
    case 'ERR_MALFORMED_AUTHORIZATION':
      return 'malformed';
    case 'ERR_INVALID_TOKEN':
      // Only InvalidTokenError carries this code; the check it names is the reason.
      return error instanceof InvalidTokenError ? error.check : 'format';
    case 'ERR_INSUFFICIENT_PERMISSION':
      return 'permission';
    case 'ERR_KEY_SET_UNAVAILABLE':
      return 'keys_unavailable';
    case 'ERR_INVALID_DPOP_PROOF':
      return error instanceof InvalidDpopProofError ? `dpop_${error.check}` : 'dpop_format';
    case 'ERR_USE_DPOP_NONCE':
      return 'dpop_use_nonce';
    case 'ERR_DPOP_BINDING':
      return error instanceof DpopBindingError ? `dpop_${error.check}` : 'dpop_confirmation';
    case 'ERR_REPLAY_STORE_UNAVAILABLE':
      return 'replay_store_unavailable';
    case 'ERR_DPOP_KEY_SHARE_FULL':
      return 'dpop_key_share_full';
    case 'ERR_BAD_REQUEST':
    case 'ERR_NOT_FOUND':
    case 'ERR_METHOD_NOT_ALLOWED':
      return null;
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}
