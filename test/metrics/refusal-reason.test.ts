import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BadRequestError,
  DpopBindingError,
  DpopKeyShareFullError,
  InvalidDpopProofError,
  ReplayStoreUnavailableError,
  UseDpopNonceError,
  type HttpError,
  InsufficientPermissionError,
  InvalidTokenError,
  KeySetUnavailableError,
  MalformedAuthorizationError,
  MethodNotAllowedError,
  MissingTokenError,
  NotFoundError,
  type TokenCheck,
} from '../../src/errors/http-errors.js';
import { type RefusalReason, refusalReason } from '../../src/metrics/refusal-reason.js';

const TOKEN_CHECKS: readonly TokenCheck[] = [
  'format',
  'header',
  'algorithm',
  'kid',
  'signature',
  'expired',
  'not_before',
  'issuer',
  'audience',
  'claims',
];

// [error, the reason it is counted under (null: not a refusal)]
const ROWS: readonly (readonly [HttpError, RefusalReason | null])[] = [
  [new MissingTokenError(), 'missing'],
  [new MalformedAuthorizationError('Authorization header must be "Bearer <token>": extra parts'), 'malformed'],
  ...TOKEN_CHECKS.map((check) => [new InvalidTokenError(check, 'test'), check] as const),
  [new InsufficientPermissionError('read:admin-messages'), 'permission'],
  [new KeySetUnavailableError(1), 'keys_unavailable'],
  [new InvalidDpopProofError('htu', 'test'), 'dpop_htu'],
  [new InvalidDpopProofError('replay', 'test'), 'dpop_replay'],
  [new UseDpopNonceError('nonce', 'missing'), 'dpop_use_nonce'],
  [new DpopBindingError('bound_token_as_bearer', 'test'), 'dpop_bound_token_as_bearer'],
  [new DpopBindingError('thumbprint', 'test'), 'dpop_thumbprint'],
  [new ReplayStoreUnavailableError(), 'replay_store_unavailable'],
  [new InvalidDpopProofError('store_restart', 'test'), 'dpop_store_restart'],
  [new DpopKeyShareFullError(3), 'dpop_key_share_full'],
  [new BadRequestError('Request bodies are not accepted'), null],
  [new NotFoundError(), null],
  [new MethodNotAllowedError(['GET', 'HEAD']), null],
];

describe('refusalReason', () => {
  for (const [error, reason] of ROWS) {
    const check = error instanceof InvalidTokenError ? ` (check ${error.check})` : '';
    it(`counts ${error.name}${check} as ${String(reason)}`, () => {
      assert.equal(refusalReason(error), reason);
    });
  }
});
