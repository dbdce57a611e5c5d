import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { z } from 'zod';
import {
  type ProofExpectations,
  PROOF_CLOCK_SKEW_SECONDS,
  PROOF_MAX_AGE_SECONDS,
  accessTokenHash,
  normalizedRequestPath,
  verifyDpopProof,
} from '../../src/auth/dpop-proof.js';
import { InvalidDpopProofError } from '../../src/errors/http-errors.js';

/**
 * Fixed vectors from the RFCs (test/data/rfc-dpop-vectors.json), run through jose and our checker
 * with the clock set to the example's own time: the RFC's signed proof must verify and yield the
 * RFC's thumbprint, and the same proof a second later than the window must not.
 */
const Jwk = z.record(z.string(), z.string());
const Vectors = z.object({
  rfc7638: z.object({ jwk: Jwk, thumbprint: z.string() }),
  rfc9449Key: z.object({ jwk: Jwk, thumbprint: z.string() }),
  rfc9449TokenRequestProof: z.object({
    proof: z.string(), method: z.string(), origin: z.string(), path: z.string(), iat: z.number(), jti: z.string(),
  }),
  rfc9449Ath: z.object({ accessToken: z.string(), ath: z.string() }),
});
const vectors = Vectors.parse(JSON.parse(readFileSync(new URL('../data/rfc-dpop-vectors.json', import.meta.url), 'utf8')));

describe('RFC vectors', () => {
  it('RFC 7638 section 3.1: the thumbprint of the example RSA key', async () => {
    assert.equal(await calculateJwkThumbprint(vectors.rfc7638.jwk), vectors.rfc7638.thumbprint);
  });

  it('RFC 9449: the thumbprint of the example proof key is the example cnf.jkt', async () => {
    assert.equal(await calculateJwkThumbprint(vectors.rfc9449Key.jwk), vectors.rfc9449Key.thumbprint);
  });

  it('RFC 9449: the example ath is base64url(SHA-256(example token))', () => {
    assert.equal(accessTokenHash(vectors.rfc9449Ath.accessToken), vectors.rfc9449Ath.ath);
  });

  const example = vectors.rfc9449TokenRequestProof;
  const expect = (nowSeconds: number): ProofExpectations => ({
    method: example.method, origins: new Set([example.origin]), path: example.path, now: nowSeconds * 1000,
  });

  it('RFC 9449 figure 3: the example proof verifies at its own time, with the example jkt and jti', async () => {
    const verified = await verifyDpopProof(example.proof, expect(example.iat + 1));
    assert.equal(verified.jkt, vectors.rfc9449Key.thumbprint);
    assert.equal(verified.jti, example.jti);
    // The window (iat + 60 s + 5 s of skew), plus the skew again for processes sharing the store (replay-clock-skew.test.ts).
    assert.equal(verified.expiresAt, (example.iat + PROOF_MAX_AGE_SECONDS + 2 * PROOF_CLOCK_SKEW_SECONDS) * 1000);
  });

  const refusals: [string, ProofExpectations, string][] = [
    ['one second past the window', expect(example.iat + PROOF_MAX_AGE_SECONDS + PROOF_CLOCK_SKEW_SECONDS + 1), 'iat'],
    ['more than the skew before its iat', expect(example.iat - PROOF_CLOCK_SKEW_SECONDS - 1), 'iat'],
    ['for GET', { ...expect(example.iat), method: 'GET' }, 'htm'],
    ['for post (htm is case-sensitive)', { ...expect(example.iat), method: 'post' }, 'htm'],
    ['at another origin', { ...expect(example.iat), origins: new Set(['https://other.example.com']) }, 'htu'],
    ['at http:// (the scheme is part of the origin)', { ...expect(example.iat), origins: new Set(['http://server.example.com']) }, 'htu'],
    ['on another path', { ...expect(example.iat), path: '/token2' }, 'htu'],
    ['with an access token (it has no ath)', { ...expect(example.iat), accessToken: vectors.rfc9449Ath.accessToken }, 'ath'],
  ];
  for (const [name, expectation, check] of refusals) {
    it(`the example proof is refused ${name} (${check})`, async () => {
      await assert.rejects(verifyDpopProof(example.proof, expectation), (error: unknown) => {
        assert.ok(error instanceof InvalidDpopProofError);
        assert.equal(error.check, check);
        return true;
      });
    });
  }
});

describe('normalizedRequestPath (RFC 3986 section 6)', () => {
  const rows: [string, string][] = [
    ['/api/messages/protected', '/api/messages/protected'],
    ['/api/%6Dessages/protected', '/api/messages/protected'],
    ['/api/messages/a%2fb', '/api/messages/a%2Fb'],
    ['/api/./messages/../messages/protected', '/api/messages/protected'],
    ['//evil.example/api', '//evil.example/api'],
  ];
  for (const [path, normalized] of rows) {
    it(`${path} -> ${normalized}`, () => {
      assert.equal(normalizedRequestPath(path), normalized);
    });
  }
});
