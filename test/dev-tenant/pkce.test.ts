import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { codeChallengeFor, isCodeChallenge, verifierMatches } from '../../src/dev-tenant/pkce.js';

const vector = z
  .object({ code_verifier: z.string(), code_challenge: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../vectors/rfc7636-pkce.json', import.meta.url), 'utf8')));

describe('PKCE S256', () => {
  it('derives the challenge of RFC 7636 Appendix B', () => {
    assert.equal(codeChallengeFor(vector.code_verifier), vector.code_challenge);
    assert.ok(isCodeChallenge(vector.code_challenge));
  });

  const verifier = vector.code_verifier;
  const challenge = vector.code_challenge;
  // [case, verifier, challenge, matches]
  const cases: [string, string, string, boolean][] = [
    ['the RFC pair', verifier, challenge, true],
    ['another verifier', `${verifier.slice(0, -1)}Y`, challenge, false],
    ['the challenge sent as the verifier (plain)', challenge, challenge, false],
    ['a verifier under 43 characters', 'a'.repeat(42), codeChallengeFor('a'.repeat(42)), false],
    ['a verifier over 128 characters', 'a'.repeat(129), codeChallengeFor('a'.repeat(129)), false],
    ['a verifier with a character outside the unreserved set', `${'a'.repeat(43)}+`, codeChallengeFor(`${'a'.repeat(43)}+`), false],
    ['a 128-character verifier', 'a'.repeat(128), codeChallengeFor('a'.repeat(128)), true],
    ['a padded challenge', verifier, `${challenge}=`, false],
    ['an empty verifier', '', challenge, false],
  ];
  for (const [name, given, expected, matches] of cases) {
    it(`${matches ? 'accepts' : 'refuses'} ${name}`, () => {
      assert.equal(verifierMatches(given, expected), matches);
    });
  }
});
