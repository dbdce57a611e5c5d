import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import {
  DEFAULT_FETCHER_OPTIONS,
  JwksFetcher,
  type JwksFetcherOptions,
  type KeySetFetchEvent,
  type KeysByKid,
} from '../../src/auth/jwks-fetcher.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';

let keyA: JWK;
let server: JwksServer;

before(async () => {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  keyA = { ...(await exportJWK(publicKey)), kid: 'key-a', use: 'sig', alg: 'RS256' };
  server = await startJwksServer({ kind: 'json', body: { keys: [keyA] } });
});
after(() => server.close());

/** A fetcher on a fake clock, so the budget and the back-off are tested without sleeping. */
function fetcherWithClock(overrides: Partial<JwksFetcherOptions> = {}) {
  const clock = { now: 1_000_000 };
  const events: KeySetFetchEvent[] = [];
  const loaded: KeysByKid[] = [];
  const fetcher = new JwksFetcher(
    { ...DEFAULT_FETCHER_OPTIONS, jwksUri: server.jwksUri, now: () => clock.now, onFetch: (event) => events.push(event), ...overrides },
    (byKid) => loaded.push(byKid),
  );
  return { fetcher, clock, events, loaded };
}

function reset(): void {
  server.behaviour = { kind: 'json', body: { keys: [keyA] } };
  server.requests = 0;
}

describe('JwksFetcher: the unknown-kid budget', () => {
  it('holds a burst of 3 at start, then earns one fetch back per 10 s (the defaults)', () => {
    const { fetcher, clock } = fetcherWithClock();
    assert.deepEqual([1, 2, 3, 4].map(() => fetcher.takeUnknownKidFetch()), [true, true, true, false]);
    assert.equal(fetcher.budgetRemainingMs(), 10_000);
    clock.now += 9_999;
    assert.equal(fetcher.takeUnknownKidFetch(), false, 'nothing is taken from a spent budget');
    assert.equal(fetcher.budgetRemainingMs(), 1);
    clock.now += 1;
    assert.equal(fetcher.takeUnknownKidFetch(), true);
    assert.equal(fetcher.takeUnknownKidFetch(), false);
  });

  it('never holds more than the burst, however long it rests', () => {
    const { fetcher, clock } = fetcherWithClock({ unknownKidFetchBurst: 2, unknownKidFetchRefillMs: 1_000 });
    clock.now += 3_600_000;
    assert.deepEqual([1, 2, 3].map(() => fetcher.takeUnknownKidFetch()), [true, true, false]);
  });

  it('allows at most 9 fetches in any minute with the defaults', () => {
    const { fetcher, clock } = fetcherWithClock();
    let taken = 0;
    for (let ms = 0; ms < 60_000; ms += 100) {
      if (fetcher.takeUnknownKidFetch()) taken += 1;
      clock.now += 100;
    }
    assert.equal(taken, 8, 'a burst of 3 at 0 s, then at 10, 20, 30, 40 and 50 s');
    assert.equal(fetcher.takeUnknownKidFetch(), true, 'the 9th at 60 s: 9 in any 60 s window, at most');
  });

  it('has no bound with a refill time of 0 (for tests that refetch on every kid)', () => {
    const { fetcher } = fetcherWithClock({ unknownKidFetchRefillMs: 0 });
    assert.ok(Array.from({ length: 100 }, () => fetcher.takeUnknownKidFetch()).every(Boolean));
  });
});

describe('JwksFetcher: fetching', () => {
  it('shares one fetch among concurrent callers and hands the keys over', async () => {
    reset();
    server.behaviour = { kind: 'delay', ms: 50, body: { keys: [keyA] } };
    const { fetcher, loaded } = fetcherWithClock();
    await Promise.all(Array.from({ length: 20 }, () => fetcher.fetch()));
    assert.equal(server.requests, 1);
    assert.deepEqual(loaded.map((byKid) => [...byKid.keys()]), [['key-a']]);
    assert.equal(fetcher.inflight, undefined);
  });

  it('backs off exponentially up to the maximum delay', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 500, body: 'x' };
    const { fetcher, clock } = fetcherWithClock({ retryDelayMs: 1_000, maxRetryDelayMs: 4_000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await fetcher.fetch();
      assert.equal(fetcher.mayFetch(), false);
      delays.push(fetcher.backoffRemainingMs());
      clock.now += fetcher.backoffRemainingMs();
      assert.equal(fetcher.mayFetch(), true);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 4_000, 4_000]);
    assert.equal(server.requests, 5);
    assert.equal(fetcher.consecutiveFailures, 5);
    server.behaviour = { kind: 'json', body: { keys: [keyA] } };
    await fetcher.fetch();
    assert.equal(fetcher.failing, false);
    assert.equal(fetcher.backoffRemainingMs(), 0);
  });

  it('gives up on a hanging tenant after the fetch timeout', async () => {
    reset();
    server.behaviour = { kind: 'hang' };
    const { fetcher, events } = fetcherWithClock({ fetchTimeoutMs: 200 });
    const started = Date.now();
    await fetcher.fetch();
    const elapsed = Date.now() - started;
    // Without the timeout it would hang for good; 20 s leaves room for a loaded machine.
    assert.ok(elapsed < 20_000, `answered in ${elapsed} ms`);
    assert.equal(events[0]?.ok === false && events[0].error.code, 'TIMEOUT');
  });

  it('gives up on a refused connection', async () => {
    const dead = await startJwksServer({ kind: 'json', body: {} });
    await dead.close();
    const fetcher = new JwksFetcher({ ...DEFAULT_FETCHER_OPTIONS, jwksUri: dead.jwksUri }, () => undefined);
    await fetcher.fetch();
    assert.equal(fetcher.failing, true);
    assert.deepEqual([...fetcher.fetchOutcomes], [['NETWORK', 1]]);
  });

  const junk: [string, object | string, string][] = [
    ['non-JSON', 'definitely not json', 'NOT_JSON'],
    ['a body over the size limit', { keys: [{ kid: 'x' }], padding: 'x'.repeat(70 * 1024) }, 'TOO_LARGE'],
    ['no keys array', { keys: 'nope' }, 'NO_USABLE_KEYS'],
    ['a JSON array', [{ kid: 'x' }], 'NO_USABLE_KEYS'],
    ['only unusable keys', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, 'NO_USABLE_KEYS'],
  ];
  for (const [name, body, code] of junk) {
    it(`refuses ${name} without crashing (${code})`, async () => {
      reset();
      server.behaviour = typeof body === 'string' ? { kind: 'raw', status: 200, body } : { kind: 'json', body };
      const { fetcher, events, loaded } = fetcherWithClock();
      await fetcher.fetch();
      assert.equal(events[0]?.ok === false && events[0].error.code, code);
      assert.equal(loaded.length, 0);
    });
  }

  it('refuses a non-200 answer', async () => {
    reset();
    server.behaviour = { kind: 'raw', status: 404, body: '{}' };
    const { fetcher, events } = fetcherWithClock();
    await fetcher.fetch();
    assert.equal(events[0]?.ok === false && events[0].error.code, 'HTTP_STATUS');
  });
});
