import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryReplayStore, replayKey } from '../../src/auth/replay-store.js';
import { ReplayStoreUnavailableError } from '../../src/errors/http-errors.js';

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
