import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DpopNonces, NONCE_STEP_SECONDS } from '../../src/auth/dpop-nonce.js';
import { UseDpopNonceError } from '../../src/errors/http-errors.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const STEP_MS = NONCE_STEP_SECONDS * 1000;
const T0 = 1_800_000_000_000;

function refusal(nonces: DpopNonces, nonce: unknown): UseDpopNonceError {
  try {
    nonces.check(nonce);
  } catch (error) {
    assert.ok(error instanceof UseDpopNonceError);
    return error;
  }
  assert.fail(`nonce ${String(nonce)} was accepted`);
}

describe('DpopNonces', () => {
  it('two replicas with the same secret issue and accept the same nonces, with no shared state', () => {
    const a = new DpopNonces(SECRET, () => T0);
    const b = new DpopNonces(SECRET, () => T0 + 1000);
    assert.equal(a.current(), b.current());
    b.check(a.current());
  });

  it('another secret gives other nonces, refused', () => {
    const other = new DpopNonces(`${SECRET}!`, () => T0).current();
    const error = refusal(new DpopNonces(SECRET, () => T0), other);
    assert.equal(error.check, 'stale');
  });

  const ages: [string, number, boolean][] = [
    ['the current step', 0, true],
    ['the previous step', STEP_MS, true],
    ['two steps back', 2 * STEP_MS, false],
    ['a future step (not made ahead of time)', -STEP_MS, false],
  ];
  for (const [name, ageMs, accepted] of ages) {
    it(`a nonce of ${name}: ${accepted ? 'accepted' : 'refused with the current one'}`, () => {
      let now = T0 - ageMs;
      const nonces = new DpopNonces(SECRET, () => now);
      const nonce = nonces.current();
      now = T0;
      if (accepted) nonces.check(nonce);
      else assert.equal(refusal(nonces, nonce).headers['dpop-nonce'], nonces.current());
    });
  }

  it('no nonce: refused as missing, with the current nonce in DPoP-Nonce', () => {
    const nonces = new DpopNonces(SECRET, () => T0);
    const error = refusal(nonces, undefined);
    assert.equal(error.check, 'missing');
    assert.equal(error.headers['dpop-nonce'], nonces.current());
  });
});
