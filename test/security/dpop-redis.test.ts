import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisReplayStore, START_KEY } from '../../src/auth/redis-replay-store.js';
import { ReplayStoreUnavailableError } from '../../src/errors/http-errors.js';
import { type DpopClientKey, dpopClientKey, makeProof } from '../helpers/dpop.js';
import { type DpopHarness, PROTECTED, boundToken, dpopProcessSetup, startDpopHarness } from '../helpers/dpop-harness.js';
import { type TestRedis, redisCommand, startTestRedis } from '../helpers/redis-server.js';
import { type ServerProcess, freePort, startServerProcess } from '../helpers/server-process.js';
import { type TestTenant, startTestTenant } from '../helpers/tenant.js';
import { assertRefused } from './helpers.js';

/**
 * The shared replay store on a real redis-server (Debian's /usr/bin/redis-server) that the tests
 * start on a free loopback port: atomic SET NX PX, a replay refused across two API processes,
 * and an outage: 503 at once while Redis is down (never a pass without the check), then recovery.
 */
let redis: TestRedis;
/**
 * A Redis that has been remembering proofs for a minute: an empty one makes the API refuse proofs
 * made in the 10 s after it first sees it (dpop-replay-restart.test.ts); these tests are not about that.
 */
const rememberingForAMinute = () => redisCommand(redis.url, 'SET', START_KEY, String(Date.now() - 60_000));
before(async () => {
  redis = await startTestRedis();
  await rememberingForAMinute();
});
after(() => redis.close());

describe('RedisReplayStore', () => {
  it('records a key once, with a TTL of the proof window', async (t) => {
    const store = new RedisReplayStore(redis.url, { maxPerKey: 10 });
    t.after(() => store.close());
    const now = Date.now();
    // The client connects in the background; the first command may come before it is ready.
    let first: boolean | undefined;
    for (let i = 0; i < 50 && first === undefined; i += 1) {
      first = await store.remember('k1', now + 65_000, now).catch(async () => { await sleep(20); return undefined; });
    }
    assert.equal(first, true);
    assert.equal(await store.remember('k1', now + 65_000, now), false);
    assert.equal(await store.remember('k2', now + 65_000, now), true);
  });

  it('an unreachable Redis: rejects with ReplayStoreUnavailableError within a second, and does not crash', async (t) => {
    const store = new RedisReplayStore(`redis://127.0.0.1:${String(await freePort())}`, { maxPerKey: 10 });
    t.after(() => store.close());
    const started = Date.now();
    await assert.rejects(store.remember('k', Date.now() + 60_000, Date.now()), ReplayStoreUnavailableError);
    // The 1 s connect timeout, not a hang (ioredis would queue the command for good); 8 s leaves room for a loaded machine.
    assert.ok(Date.now() - started < 8_000, `took ${String(Date.now() - started)} ms`);
  });
});

describe('the API on Redis: an outage mid-run', () => {
  let h: DpopHarness;
  before(async () => {
    h = await startDpopHarness({ redisUrl: redis.url });
    await waitFor200(async () => h.dpop(h.userToken, await h.proof(h.userToken)));
  });
  after(() => h.close());

  it('a replay is refused through Redis', async () => {
    const proof = await h.proof(h.userToken);
    assert.equal((await h.dpop(h.userToken, proof)).statusCode, 200);
    assertRefused(await h.dpop(h.userToken, proof), 401);
  });

  it('Redis stopped: DPoP requests get 503 quickly (Bearer keeps working); Redis back: DPoP works again', async () => {
    await redis.stop();
    try {
      for (let i = 0; i < 3; i += 1) {
        const started = Date.now();
        const response = await h.dpop(h.userToken, await h.proof(h.userToken));
        assertRefused(response, 503);
        assert.equal(response.headers['retry-after'], '1');
        // The 0.5 s command timeout, not a hang; 8 s leaves room for a loaded machine.
        assert.ok(Date.now() - started < 8_000, `503 took ${String(Date.now() - started)} ms`);
      }
      const bearer = await h.app.inject({ method: 'GET', url: PROTECTED, headers: { authorization: `Bearer ${await h.tenant.token()}` } });
      assert.equal(bearer.statusCode, 200);
      const refusal = h.logs.find((line) => line.includes('ERR_REPLAY_STORE_UNAVAILABLE'));
      assert.ok(refusal !== undefined, 'the 503 is logged with its code');
    } finally {
      await redis.start();
      // Back with its memory, as a Redis with persistence comes back (back empty: dpop-replay-restart.test.ts).
      await rememberingForAMinute();
    }
    await waitFor200(async () => h.dpop(h.userToken, await h.proof(h.userToken)));
    const proof = await h.proof(h.userToken);
    assert.equal((await h.dpop(h.userToken, proof)).statusCode, 200);
    assertRefused(await h.dpop(h.userToken, proof), 401);
  });
});

/** Retries (bounded: 10 s) until the request answers 200: Redis (re)connects in the background. */
async function waitFor200(send: () => Promise<{ statusCode: number }>): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await send()).statusCode;
    if (last === 200) return;
    await sleep(100);
  }
  assert.fail(`still ${String(last)} after 10 s`);
}

describe('two API processes sharing one Redis', () => {
  let tenant: TestTenant;
  let key: DpopClientKey;
  let token: string;
  const servers: { process: ServerProcess; origin: string }[] = [];
  before(async () => {
    tenant = await startTestTenant();
    key = await dpopClientKey();
    token = await boundToken(tenant, key, 'user');
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      const origin = `http://127.0.0.1:${String(port)}`;
      const process = await startServerProcess({
        AUTH0_DOMAIN: tenant.tenant.url,
        AUTH0_AUDIENCE: tenant.config.audience,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        // Both serve one public origin, as replicas behind a load balancer do.
        API_ORIGIN: 'https://api.example.com',
        LOG_LEVEL: 'warn',
      });
      servers.push({ process, origin });
    }
    await Promise.all(servers.map(({ origin }) => waitForStatus(origin)));
  });
  after(async () => {
    await Promise.all(servers.map(({ process }) => process.stop()));
    await tenant.close();
  });

  const call = (origin: string, proof: string) =>
    fetch(`${origin}${PROTECTED}`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });

  it('a proof accepted by one process is refused by the other', async () => {
    const [a, b] = servers;
    assert.ok(a !== undefined && b !== undefined);
    const proof = await makeProof(key, { htu: `https://api.example.com${PROTECTED}`, accessToken: token });
    const first = await call(a.origin, proof);
    assert.equal(first.status, 200, await first.text());
    const replay = await call(b.origin, proof);
    assert.equal(replay.status, 401);
    assert.match(replay.headers.get('www-authenticate') ?? '', /error="invalid_dpop_proof"/);
    // And the other way round, with a fresh proof.
    const second = await makeProof(key, { htu: `https://api.example.com${PROTECTED}`, accessToken: token });
    assert.equal((await call(b.origin, second)).status, 200);
    assert.equal((await call(a.origin, second)).status, 401);
  });
});

describe('WEB_CONCURRENCY=2 with REDIS_URL', () => {
  let tenant: TestTenant;
  let server: ServerProcess;
  let origin: string;
  let key: DpopClientKey;
  let token: string;
  before(async () => {
    let port: number;
    ({ tenant, key, token, port, origin } = await dpopProcessSetup());
    server = await startServerProcess({
      AUTH0_DOMAIN: tenant.tenant.url,
      AUTH0_AUDIENCE: tenant.config.audience,
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
      REDIS_URL: redis.url,
      API_ORIGIN: origin,
      LOG_LEVEL: 'warn',
    });
    await waitForStatus(origin);
  });
  after(async () => {
    await server.stop();
    await tenant.close();
  });

  /** One request on a new connection, so the cluster spreads them over its workers. */
  const send = (proof: string) =>
    new Promise<number>((resolve, reject) => {
      const call = httpRequest(`${origin}${PROTECTED}`, { agent: false, headers: { authorization: `DPoP ${token}`, dpop: proof } }, (response) => {
        response.resume();
        response.once('end', () => { resolve(response.statusCode ?? 0); });
      });
      call.once('error', reject);
      call.end();
    });

  it('starts, and one proof sent six times over new connections is accepted exactly once', async () => {
    // Each worker connects to Redis in the background: wait (bounded) until fresh proofs pass on both.
    let passed = 0;
    for (let i = 0; i < 100 && passed < 4; i += 1) {
      passed = (await send(await makeProof(key, { htu: `${origin}${PROTECTED}`, accessToken: token }))) === 200 ? passed + 1 : 0;
      if (passed === 0) await sleep(50);
    }
    assert.equal(passed, 4, 'both workers serve DPoP');
    const proof = await makeProof(key, { htu: `${origin}${PROTECTED}`, accessToken: token });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push(await send(proof));
    assert.deepEqual(statuses, [200, 401, 401, 401, 401, 401]);
    assert.equal(await send(await makeProof(key, { htu: `${origin}${PROTECTED}`, accessToken: token })), 200);
  });
});

/** Waits (bounded: 15 s) until a DPoP-capable server answers on `origin` (Redis connected too). */
async function waitForStatus(origin: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${origin}/api/messages/public`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(100);
  }
  assert.fail(`${origin} did not start`);
}
