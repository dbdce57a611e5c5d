import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MEMORY_START_MARGIN_MS, MemoryReplayStore, replayKey } from '../../src/auth/replay-store.js';
import { DpopKeyShareFullError, InvalidDpopProofError, ReplayStoreUnavailableError } from '../../src/errors/http-errors.js';

const full = () => new ReplayStoreUnavailableError();

describe('MemoryReplayStore', () => {
  it('remembers a key once', async () => {
    const store = new MemoryReplayStore(1000, full);
    const now = Date.now();
    assert.equal(await store.remember('a', now + 60_000, now), true);
    assert.equal(await store.remember('a', now + 60_000, now), false);
    assert.equal(await store.remember('b', now + 60_000, now), true);
  });

  it('forgets a key once its proof would be refused as too old anyway', async () => {
    const store = new MemoryReplayStore(1000, full);
    const now = Date.now();
    assert.equal(await store.remember('a', now + 30, now), true);
    await sleep(60);
    assert.equal(await store.remember('a', Date.now() + 30, Date.now()), true);
  });

  it('full of live proofs: refuses (503) rather than forget one that could be replayed', async () => {
    const store = new MemoryReplayStore(1000, full);
    const now = Date.now();
    for (let i = 0; i < 1000; i += 1) assert.equal(await store.remember(`k${String(i)}`, now + 60_000, now), true);
    await assert.rejects(store.remember('one-more', now + 60_000, now), ReplayStoreUnavailableError);
    assert.equal(await store.remember('k0', now + 60_000, now), false, 'the oldest is still remembered');
    assert.equal(store.size, 1000);
  });

  it('full, but with expired entries: purges them and takes the new one', async () => {
    const store = new MemoryReplayStore(1000, full);
    const now = Date.now();
    for (let i = 0; i < 1000; i += 1) await store.remember(`k${String(i)}`, now + 20, now);
    await sleep(50);
    assert.equal(await store.remember('new', Date.now() + 60_000, Date.now()), true);
    assert.equal(store.size, 1);
  });
});

describe('replayKey', () => {
  it('is 43 characters whatever the jti, and differs by key and by jti', () => {
    const keys = [replayKey('jkt-a', 'j1'), replayKey('jkt-b', 'j1'), replayKey('jkt-a', 'j2'), replayKey('jkt-a', 'j'.repeat(256))];
    for (const key of keys) assert.match(key, /^[\w-]{43}$/);
    assert.equal(new Set(keys).size, keys.length);
  });
});

describe('MemoryReplayStore: a proof that may predate its memory (issue 15: no replay across restarts)', () => {
  // Injected start: the moment the process (and so the store's memory) started.
  const startedAt = 1_700_000_000_000;
  const store = () => new MemoryReplayStore(1000, full, { startedAt });
  const at = (iatMs: number) => ({ jkt: 'jkt-a', issuedAt: iatMs });

  it('iat before the start (a proof the previous process may have accepted): 401 store_restart, never recorded', async () => {
    const s = store();
    const now = startedAt + 1_000;
    await assert.rejects(s.remember('old', now + 60_000, now, at(startedAt - 18_000)), (error: unknown) => {
      assert.ok(error instanceof InvalidDpopProofError);
      assert.equal(error.check, 'store_restart');
      return true;
    });
    assert.equal(s.size, 0);
  });

  it('iat within the 5 s of future skew after the start: 503 with Retry-After until a fresh proof passes', async () => {
    const now = startedAt + 1_000;
    // Accepted by the old process a moment before it stopped, made by a client clock 4 s ahead.
    await assert.rejects(store().remember('edge', now + 60_000, now, at(startedAt + 4_000)), (error: unknown) => {
      assert.ok(error instanceof ReplayStoreUnavailableError);
      // 4 s of margin left, plus one for whole-second iat.
      assert.equal(error.headers['retry-after'], '5');
      return true;
    });
  });

  it('a fresh proof once the margin has passed: recorded, and its replay refused', async () => {
    const s = store();
    const now = startedAt + MEMORY_START_MARGIN_MS;
    assert.equal(await s.remember('fresh', now + 60_000, now, at(startedAt + MEMORY_START_MARGIN_MS)), true);
    assert.equal(await s.remember('fresh', now + 60_000, now, at(startedAt + MEMORY_START_MARGIN_MS)), false);
  });

  it('without a ProofSource (the dev tenant): no start rule, as before', async () => {
    assert.equal(await store().remember('k', startedAt + 60_000, startedAt), true);
  });
});

describe('MemoryReplayStore: each key holds at most its share (issue 16 W2)', () => {
  const startedAt = 0;
  const now = 1_700_000_000_000;
  const proofOf = (jkt: string) => ({ jkt, issuedAt: now });

  it('with a store of 1 000 and 10 per key, one key\'s 2 000 proofs take 10 slots; another key still records', async () => {
    const s = new MemoryReplayStore(1000, full, { maxPerKey: 10, startedAt });
    let accepted = 0;
    let shareFull = 0;
    for (let i = 0; i < 2000; i += 1) {
      try {
        if (await s.remember(`a${String(i)}`, now + 70_000, now, proofOf('jkt-a'))) accepted += 1;
      } catch (error) {
        assert.ok(error instanceof DpopKeyShareFullError);
        shareFull += 1;
      }
    }
    assert.deepEqual({ accepted, shareFull, size: s.size }, { accepted: 10, shareFull: 1990, size: 10 });
    assert.equal(await s.remember('b0', now + 70_000, now, proofOf('jkt-b')), true);
  });

  it('a full share: 429 with Retry-After until its earliest entry lapses; a replay is still a replay', async () => {
    const s = new MemoryReplayStore(1000, full, { maxPerKey: 2, startedAt });
    assert.equal(await s.remember('a1', now + 30_000, now, proofOf('jkt-a')), true);
    assert.equal(await s.remember('a2', now + 60_000, now, proofOf('jkt-a')), true);
    await assert.rejects(s.remember('a3', now + 60_000, now, proofOf('jkt-a')), (error: unknown) => {
      assert.ok(error instanceof DpopKeyShareFullError);
      assert.equal(error.statusCode, 429);
      assert.equal(error.headers['retry-after'], '30');
      return true;
    });
    assert.equal(await s.remember('a1', now + 30_000, now, proofOf('jkt-a')), false);
  });

  it('the share frees up as entries lapse', async () => {
    const s = new MemoryReplayStore(1000, full, { maxPerKey: 1, startedAt });
    assert.equal(await s.remember('a1', now + 30_000, now, proofOf('jkt-a')), true);
    await assert.rejects(s.remember('a2', now + 30_000, now + 29_999, proofOf('jkt-a')), DpopKeyShareFullError);
    assert.equal(await s.remember('a2', now + 60_000, now + 30_000, proofOf('jkt-a')), true);
  });
});
