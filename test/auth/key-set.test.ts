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

/** A key set on a fake clock, so cooldowns and staleness are tested without sleeping. */
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

  it('bounds fetches under a flood of unknown kids: one per cooldown window', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ unknownKidCooldownMs: 30_000 });
    await keySet.lookup('key-a', 'RS256');
    clock.now += 30_000;
    for (let round = 0; round < 3; round += 1) {
      const lookups = Array.from({ length: 200 }, (_, i) => keySet.lookup(`random-${round}-${i}`, 'RS256'));
      const results = await Promise.all(lookups);
      assert.ok(results.every((result) => result.status === 'unknown-kid'));
      clock.now += 10_000; // 3 rounds span 30 s: at most one refetch in that window
    }
    assert.equal(server.requests, 2);
    clock.now += 30_000;
    await keySet.lookup('another-random-kid', 'RS256');
    assert.equal(server.requests, 3);
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

  it('calls a new kid unavailable, not unknown, while the tenant is down, whatever the cooldown', async () => {
    reset();
    const { keySet, clock } = keySetWithClock({ unknownKidCooldownMs: 30_000, retryDelayMs: 1_000, maxRetryDelayMs: 30_000 });
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'found');
    server.behaviour = { kind: 'raw', status: 503, body: 'down' };
    clock.now += 31_000;
    const first = await keySet.lookup('key-b', 'RS256');
    assert.ok(first.status === 'unavailable');
    assert.equal(first.retryAfterMs, 1_000);
    assert.equal(server.requests, 2);
    clock.now += 500; // inside the back-off and the cooldown: no request, still unavailable
    assert.equal((await keySet.lookup('key-b', 'RS256')).status, 'unavailable');
    assert.equal((await keySet.lookup('another-new-kid', 'RS256')).status, 'unavailable');
    assert.equal(server.requests, 2);
    clock.now += 600; // past the back-off, still inside the cooldown: the retry runs, and fails
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

  it('names a kid of another algorithm as wrong-algorithm without fetching', async () => {
    reset();
    const { keySet } = keySetWithClock({ algorithms: ['RS256', 'PS256'], unknownKidCooldownMs: 0 });
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

  it('backs off exponentially up to the maximum delay', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 500, body: 'x' };
    const { keySet, clock } = keySetWithClock({ retryDelayMs: 1_000, maxRetryDelayMs: 4_000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const result = await keySet.lookup('key-a', 'RS256');
      assert.equal(result.status, 'unavailable');
      delays.push(result.retryAfterMs);
      clock.now += result.retryAfterMs;
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 4_000, 4_000]);
    assert.equal(server.requests, 5);
  });

  it('gives up on a hanging tenant after the fetch timeout', async () => {
    reset();
    server.behaviour = { kind: 'hang' };
    const { keySet, events } = keySetWithClock({ fetchTimeoutMs: 200 });
    const started = Date.now();
    const result = await keySet.lookup('key-a', 'RS256');
    const elapsed = Date.now() - started;
    assert.equal(result.status, 'unavailable');
    assert.ok(elapsed < 2_000, `answered in ${elapsed} ms`);
    assert.equal(events[0]?.ok === false && events[0].error.code, 'TIMEOUT');
  });

  it('gives up on a refused connection', async () => {
    const dead = await startJwksServer({ kind: 'json', body: {} });
    await dead.close();
    const keySet = new RemoteKeySet({ jwksUri: dead.jwksUri });
    const result = await keySet.lookup('key-a', 'RS256');
    assert.equal(result.status, 'unavailable');
  });

  const junk: [string, object | string, string][] = [
    ['non-JSON', 'definitely not json', 'NOT_JSON'],
    ['a body over the size limit', { keys: [keyA], padding: 'x'.repeat(70 * 1024) }, 'TOO_LARGE'],
    ['no keys array', { keys: 'nope' }, 'NO_USABLE_KEYS'],
    ['a JSON array', [keyA], 'NO_USABLE_KEYS'],
    ['only unusable keys', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, 'NO_USABLE_KEYS'],
  ];
  for (const [name, body, code] of junk) {
    it(`refuses ${name} without crashing (${code})`, async () => {
      reset();
      server.behaviour =
        typeof body === 'string' ? { kind: 'raw', status: 200, body } : { kind: 'json', body };
      const { keySet, events } = keySetWithClock();
      assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unavailable');
      assert.equal(events[0]?.ok === false && events[0].error.code, code);
    });
  }

  it('refuses a non-200 answer', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 404, body: '{}' };
    const { keySet, events } = keySetWithClock();
    assert.equal((await keySet.lookup('key-a', 'RS256')).status, 'unavailable');
    assert.equal(events[0]?.ok === false && events[0].error.code, 'HTTP_STATUS');
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
    assert.ok(Date.now() - started < 1_000, 'did not wait for the hanging retry');
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
