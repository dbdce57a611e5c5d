import { type HttpError, InvalidTokenError, type TokenCheck } from '../errors/http-errors.js';

/** Why a request was refused authentication or access: the `reason` label of auth_refusals_total. */
export type RefusalReason = 'missing' | 'malformed' | TokenCheck | 'permission' | 'keys_unavailable';

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
