import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dpopClientKey, makeProof } from '../helpers/dpop.js';
import { API_ORIGIN, type DpopHarness, PROTECTED, boundToken, startDpopHarness } from '../helpers/dpop-harness.js';
import { assertRefused } from './helpers.js';

/**
 * Issue 16 W2: with DPOP_REPLAY_MAX_ENTRIES=1000, one token holder's valid proofs filled the replay
 * store and every DPoP client got 503 for up to 75 s. Now one key holds at most its share
 * (DPOP_REPLAY_MAX_PER_KEY: 10 here; 500 by default for a store of 1 000): its own proofs get 429, others pass.
 */
describe('one key cannot fill the replay store', () => {
  let h: DpopHarness;
  before(async () => { h = await startDpopHarness({ replayMaxEntries: 1000, replayMaxPerKey: 10 }); });
  after(() => h.close());

  it('1 000 proofs of one key (enough to fill the store): 10 accepted, the rest 429 with Retry-After; another key gets 200', async () => {
    const statuses = new Map<number, number>();
    let lastRefusal: Awaited<ReturnType<DpopHarness['dpop']>> | undefined;
    for (let i = 0; i < 1000; i += 1) {
      const response = await h.dpop(h.userToken, await h.proof(h.userToken));
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode !== 200) lastRefusal = response;
    }
    assert.deepEqual(Object.fromEntries(statuses), { 200: 10, 429: 990 });
    assert.ok(lastRefusal !== undefined);
    assertRefused(lastRefusal, 429);
    const retryAfter = Number(lastRefusal.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 70, `Retry-After ${String(lastRefusal.headers['retry-after'])}`);

    const other = await dpopClientKey();
    const otherToken = await boundToken(h.tenant, other, 'user');
    const proof = await makeProof(other, { htu: `${API_ORIGIN}${PROTECTED}`, accessToken: otherToken });
    const answer = await h.dpop(otherToken, proof);
    assert.equal(answer.statusCode, 200, answer.body);
    assertRefused(await h.dpop(otherToken, proof), 401);
  });
});
