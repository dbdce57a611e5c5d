import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import { type KeySetFetchEvent, type KeySetOptions, RemoteKeySet } from '../../src/auth/key-set.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
}

let keyA: JWK;
let keyB: JWK;
let server: JwksServer;

before(async () => {
  keyA = await publicJwk('key-a');
  keyB = await publicJwk('key-b');
  server = await startJwksServer({ kind: 'json', body: { keys: [keyA] } });
});
after(() => server.close());

/** A key set on a fake clock, so the budget and staleness are tested without sleeping. */
function keySetWithClock(overrides: Partial<KeySetOptions> = {}) {
  const clock = { now: 1_000_000 };
  const events: KeySetFetchEvent[] = [];
  const keySet = new RemoteKeySet({
    jwksUri: server.jwksUri,
    now: () => clock.now,
    onFetch: (event) => events.push(event),
    ...overrides,
  });
  return { keySet, clock, events };
}

function reset(body: unknown = { keys: [keyA] }): void {
  server.behaviour = { kind: 'json', body };
  server.requests = 0;
}

describe('RemoteKeySet', () => {
  it('fetches once and serves known kids from memory', async () => {
    reset();
    const { keySet } = keySetWithClock();
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    assert.equal(server.requests, 1);
    assert.equal(keySet.isReady(), true);
  });

  it('coalesces concurrent first lookups into one fetch', async () => {
    reset();
    server.behaviour = { kind: 'delay', ms: 50, body: { keys: [keyA] } };
    const { keySet } = keySetWithClock();
    const results = await Promise.all(Array.from({ length: 50 }, () => keySet.lookup('key-a', 'RS256')));
    assert.ok(results.every((result) => result.status === 'found'));
    assert.equal(server.requests, 1);
  });

  it('refetches once for a rotated kid, then finds it', async () => {
    reset();
    const { keySet, clock } = keySetWithClock();
    await keySet.lookup('key-a', 'RS256');
    server.behaviour = { kind: 'json', body: { keys: [keyB, keyA] } };
    clock.now += 31_000;
    const results = await Promise.all(Array.from({ length: 20 }, () => keySet.lookup('key-b', 'RS256')));
    assert.ok(results.every((result) => result.status === 'found'));
    assert.equal(server.requests, 2, 'one initial fetch, one shared refetch');
  });

  it('fetches a kid published a moment ago on its first request', async () => {
    reset();
    const { keySet } = keySetWithClock();
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    server.behaviour = { kind: 'json', body: { keys: [keyB, keyA] } }; // the tenant rotates now
    assert.equal((await keySet.lookup('key-b', 'RS256')).status, 'found', 'no cooldown to wait out');
    assert.equal(server.requests, 2);
  });

  it('bounds fetches under a flood of unknown kids: the budget (burst 3, one per 10 s), then 401s', async () => {
    reset();
    const { keySet, clock } = keySetWithClock();
    await keySet.lookup('key-a', 'RS256');
    const requestsAfterLoad = server.requests;
    // One minute of floods, one round of 200 concurrent random kids every second.
    for (let second = 0; second < 60; second += 1) {
      const lookups = Array.from({ length: 200 }, (_, i) => keySet.lookup(`random-${second}-${i}`, 'RS256'));
      const results = await Promise.all(lookups);
      assert.ok(results.every((result) => result.status === 'unknown-kid'), `second ${second}`);
      clock.now += 1_000;
    }
    const fetches = server.requests - requestsAfterLoad;
    // The burst at 0, 1 and 2 s, then one each time 10 s of refill is earned: 10, 20, 30, 40, 50 s.
    assert.equal(fetches, 8, 'burst of 3, then one per 10 s: at most 9 in any minute');
  });

  it('answers unavailable at once while the tenant is down, and recovers by itself', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    const { keySet, clock } = keySetWithClock({ retryDelayMs: 1_000 });
    const first = await keySet.lookup('key-a', 'RS256');
    assert.equal(first.status, 'unavailable');
    assert.equal(keySet.isReady(), false);
    // Inside the back-off no request reaches the tenant.
    for (let i = 0; i < 20; i += 1) assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unavailable');
    assert.equal(server.requests, 1);
    assert.equal(await keySet.warm(), false);
    assert.equal(server.requests, 1);

    server.behaviour = { kind: 'json', body: { keys: [keyA] } };
    clock.now += 1_000;
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    assert.equal(keySet.isReady(), true);
  });

  it('calls a new kid unavailable, not unknown, while the tenant is down, whatever the budget', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ retryDelayMs: 1_000, maxRetryDelayMs: 30_000 });
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    const first = await keySet.lookup('key-b', 'RS256'); // at once: no cooldown after the good fetch
    assert.ok(first.status === 'unavailable');
    assert.equal(first.retryAfterMs, 1_000);
    assert.equal(server.requests, 2);
    clock.now += 500; // inside the back-off: no request, still unavailable
    assert.equal((await keySet.lookup('key-b', 'RS256')).status, 'unavailable');
    assert.equal((await keySet.lookup('another-new-kid', 'RS256')).status, 'unavailable');
    assert.equal(server.requests, 2);
    clock.now += 600; // past the back-off: the retry runs, and fails
    assert.equal((await keySet.lookup('key-b', 'RS256')).status, 'unavailable');
    assert.equal(server.requests, 3);
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found', 'known kids keep working on the last good keys');

    server.behaviour = { kind: 'json', body: { keys: [keyB, keyA] } };
    clock.now += 2_000; // past the doubled back-off
    assert.equal((await keySet.lookup('key-b', 'RS256')).status, 'found');
    assert.equal(server.requests, 4);
    assert.equal((await keySet.lookup('truly-unknown', 'RS256')).status, 'unknown-kid', 'a successful fetch shows it is not there');
    assert.equal(server.requests, 4);
  });

  it('during an outage with the budget spent, says unavailable until the budget allows a retry', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ retryDelayMs: 1_000, maxRetryDelayMs: 1_000 });
    await keySet.lookup('key-a', 'RS256');
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await keySet.lookup(`new-${i}`, 'RS256')).status, 'unavailable');
      clock.now += 1_000; // past the back-off each time: the budget pays for each retry
    }
    assert.equal(server.requests, 4, 'the load, then the burst of 3');
    const spent = await keySet.lookup('new-3', 'RS256');
    assert.ok(spent.status === 'unavailable', 'never 401 while the last fetch failed');
    assert.equal(spent.retryAfterMs, 7_000, 'the budget earns one fetch 10 s after the first was taken');
    assert.equal(server.requests, 4);
  });

  it('names a kid of another algorithm as wrong-algorithm without fetching', async () => {
    reset();
    const { keySet } = keySetWithClock({ algorithms: ['RS256', 'PS256'] });
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    assert.equal((await keySet.lookup('key-a', 'PS256')).status, 'wrong-algorithm', 'key-a is published with alg RS256');
    assert.equal(server.requests, 1);
  });

  it('states its facts for metrics: when the keys were fetched and how many fetches', async () => {
    reset();
    const { keySet, clock } = keySetWithClock();
    assert.deepEqual(keySet.facts(), { fetchedAt: undefined, fetchCount: 0, consecutiveFailures: 0, fetchOutcomes: new Map() });
    await keySet.lookup('key-a', 'RS256');
    assert.deepEqual(keySet.facts(), { fetchedAt: clock.now, fetchCount: 1, consecutiveFailures: 0, fetchOutcomes: new Map([['ok', 1]]) });
  });

  it('skips keys that are not RS256 signing keys or carry private members', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'private' };
    reset({
      keys: [
        { ...keyB, kid: 'enc', use: 'enc' },
        { ...keyB, kid: 'hs', alg: 'HS256' },
        { ...keyB, kid: undefined },
        { ...keyB, kid: 'broken', n: 'AA' },
        privateJwk,
        keyA,
      ],
    });
    const { keySet } = keySetWithClock();
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    for (const kid of ['enc', 'hs', 'private']) {
      assert.equal(keySet.hasFreshKid(kid), false, kid);
    }
  });

  it('refreshes keys that are due before answering, so a removed key is refused after refreshIntervalMs', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ refreshIntervalMs: 60_000 });
    await keySet.lookup('key-a', 'RS256');
    assert.equal(keySet.hasFreshKid('key-a'), true);
    server.behaviour = { kind: 'json', body: { keys: [keyB] } };
    clock.now += 59_000;
    assert.equal(keySet.hasFreshKid('key-a'), true);
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found', 'not due yet: no fetch');
    assert.equal(server.requests, 1);
    clock.now += 1_000;
    assert.equal(keySet.hasFreshKid('key-a'), false, 'caches stop trusting keys that are due');
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unknown-kid', 'the removed key is refused at once');
    assert.equal(server.requests, 2);
  });

  it('waits for the due refresh even if a fetch failed before the keys fell due', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ refreshIntervalMs: 60_000, retryDelayMs: 1_000 });
    await keySet.lookup('key-a', 'RS256');
    clock.now += 31_000;
    server.behaviour = { kind: 'raw', status: 503, body: 'blip' };
    assert.equal((await keySet.lookup('unknown', 'RS256')).status, 'unavailable'); // its refetch failed
    assert.equal(server.requests, 2);
    server.behaviour = { kind: 'delay', ms: 100, body: { keys: [keyB] } };
    clock.now += 30_000; // the keys are now due; the tenant is healthy again
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unknown-kid', 'the removed key is refused at once');
    assert.equal(server.requests, 3);
  });

  it('keeps using stale keys while the tenant fails, retrying behind, up to maxStaleMs', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ refreshIntervalMs: 60_000, maxStaleMs: 600_000, retryDelayMs: 1_000 });
    await keySet.lookup('key-a', 'RS256');
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    clock.now += 120_000;
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found', 'the refresh failed: stale keys still serve');
    assert.equal(server.requests, 2);
    clock.now += 1_000; // past the back-off: the retry runs behind, the answer does not wait for it
    server.behaviour = { kind: 'hang' };
    const started = Date.now();
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    // Waiting for the retry would take the 5 s fetch timeout; 4 s leaves room for a loaded machine.
    assert.ok(Date.now() - started < 4_000, 'did not wait for the hanging retry');
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    clock.now += 478_000; // 599 s after the last good fetch
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    clock.now += 2_000; // past maxStaleMs
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unavailable');
    assert.equal(keySet.isReady(), false);
  });

  it('tells listeners the new kids, so caches can drop tokens of removed keys', async () => {
    reset();
    const { keySet, clock } = keySetWithClock();
    const seen: string[][] = [];
    keySet.onKeysChanged((kids) => seen.push([...kids]));
    await keySet.lookup('key-a', 'RS256');
    server.behaviour = { kind: 'json', body: { keys: [keyB] } };
    clock.now += 31_000;
    await keySet.lookup('key-b', 'RS256');
    assert.deepEqual(seen, [['key-a'], ['key-b']]);
    assert.equal(keySet.hasFreshKid('key-a'), false);
  });

  it('counts fetches by outcome and tells when the keys held were fetched', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    const { keySet, clock } = keySetWithClock({ retryDelayMs: 1_000 });
    assert.equal(keySet.facts().fetchedAt, undefined);
    await keySet.lookup('key-a', 'RS256');
    assert.deepEqual([...keySet.facts().fetchOutcomes], [['HTTP_STATUS', 1]]);
    assert.equal(keySet.facts().fetchedAt, undefined);

    server.behaviour = { kind: 'json', body: { keys: [keyA] } };
    clock.now += 1_000;
    await keySet.lookup('key-a', 'RS256');
    const fetchedAt = clock.now;
    clock.now += 31_000;
    await keySet.lookup('key-b', 'RS256'); // unknown kid: a second successful fetch
    assert.deepEqual(Object.fromEntries(keySet.facts().fetchOutcomes), { HTTP_STATUS: 1, ok: 2 });
    assert.equal(keySet.facts().fetchedAt, fetchedAt + 31_000);
  });
});
