import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractBearerToken } from '../../src/auth/bearer-token.js';
import { MalformedAuthorizationError, MissingTokenError } from '../../src/errors/http-errors.js';

describe('extractBearerToken', () => {
  const accepted: [string, string][] = [
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc.def.ghi', 'abc.def.ghi'],
    ['Bearer   abc.def.ghi  ', 'abc.def.ghi'],
    ['Bearer a-b_c.d~e+f/g==', 'a-b_c.d~e+f/g=='],
  ];
  for (const [header, token] of accepted) {
    it(`takes the token from ${JSON.stringify(header)}`, () => {
      assert.equal(extractBearerToken(header), token);
    });
  }

  const missing = [undefined, '', 'Basic dXNlcjpwdw==', 'Digest x', 'Token abc', 'Bearer,abc', 'Bearerabc'];
  for (const header of missing) {
    it(`answers "requires authentication" for ${JSON.stringify(header)}`, () => {
      assert.throws(() => extractBearerToken(header), MissingTokenError);
    });
  }

  const malformed = ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a.b.c extra', 'Bearer {"alg":"none"}', 'Bearer a=b', 'Bearer ä.b.c'];
  for (const header of malformed) {
    it(`answers 400 invalid_request for ${JSON.stringify(header)}`, () => {
      assert.throws(() => extractBearerToken(header), (error: unknown) => {
        assert.ok(error instanceof MalformedAuthorizationError);
        assert.equal(error.statusCode, 400);
        assert.match(error.headers['www-authenticate'] ?? '', /error="invalid_request"/);
        return true;
      });
    });
  }
});
