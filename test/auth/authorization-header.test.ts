import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthorization } from '../../src/auth/authorization-header.js';
import { MalformedAuthorizationError, MissingTokenError } from '../../src/errors/http-errors.js';

describe('parseAuthorization', () => {
  const accepted: [string, 'bearer' | 'dpop', string][] = [
    ['Bearer abc.def.ghi', 'bearer', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'bearer', 'abc.def.ghi'],
    ['BEARER abc.def.ghi', 'bearer', 'abc.def.ghi'],
    ['Bearer   abc.def.ghi  ', 'bearer', 'abc.def.ghi'],
    ['Bearer a-b_c.d~e+f/g==', 'bearer', 'a-b_c.d~e+f/g=='],
    ['DPoP abc.def.ghi', 'dpop', 'abc.def.ghi'],
    ['dpop abc.def.ghi', 'dpop', 'abc.def.ghi'],
    ['DPOP\tabc.def.ghi', 'dpop', 'abc.def.ghi'],
  ];
  for (const [header, scheme, token] of accepted) {
    it(`takes ${scheme} and the token from ${JSON.stringify(header)}`, () => {
      assert.deepEqual(parseAuthorization(header), { scheme, token });
    });
  }

  const missing = [undefined, '', 'Basic dXNlcjpwdw==', 'Digest x', 'Token abc', 'Bearer,abc', 'Bearerabc', 'DPoPabc', 'DPoP-Bearer abc'];
  for (const header of missing) {
    it(`answers "requires authentication" for ${JSON.stringify(header)}`, () => {
      assert.throws(() => parseAuthorization(header), MissingTokenError);
    });
  }

  const malformed = [
    'Bearer', 'Bearer ', 'Bearer a b', 'Bearer a.b.c extra', 'Bearer {"alg":"none"}', 'Bearer a=b', 'Bearer ä.b.c',
    'DPoP', 'DPoP a b', 'DPoP a,b',
  ];
  for (const header of malformed) {
    it(`answers 400 invalid_request for ${JSON.stringify(header)}`, () => {
      assert.throws(() => parseAuthorization(header), (error: unknown) => {
        assert.ok(error instanceof MalformedAuthorizationError);
        assert.equal(error.statusCode, 400);
        assert.equal(error.challenge.error, 'invalid_request');
        assert.match(error.message, header.startsWith('D') ? /^Authorization header must be "DPoP <token>"/ : /^Authorization header must be "Bearer <token>"/);
        return true;
      });
    });
  }
});
