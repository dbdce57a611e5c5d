import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_START_MARGIN_MS, RedisReplayStore, START_KEY } from '../../src/auth/redis-replay-store.js';
import { DpopKeyShareFullError, InvalidDpopProofError, ReplayStoreUnavailableError } from '../../src/errors/http-errors.js';
import { type DpopClientKey, makeProof } from '../helpers/dpop.js';
import { type DpopHarness, PROTECTED, dpopProcessSetup, startDpopHarness } from '../helpers/dpop-harness.js';
import { type TestRedis, redisCommand, startTestRedis } from '../helpers/redis-server.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import type { TestTenant } from '../helpers/tenant.js';

/**
 * Issue 15 item 3: a proof is never accepted twice, even when the replay store loses its memory.
 * A real redis-server restarted empty (as compose.yaml runs it: no persistence), and a real API
 * process restarted with the in-memory store: the proof accepted before is refused after (401
 * invalid_dpop_proof), and a fresh proof passes once the skew margin after the restart has passed.
 */
let redis: TestRedis;
before(async () => { redis = await startTestRedis(); });
after(() => redis.close());

/** Sends until the answer is not `skip` (bounded: 15 s): Redis reconnects in the background. */
async function untilNot<R extends { statusCode: number }>(skip: (status: number) => boolean, send: () => Promise<R>): Promise<R> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await send();
    if (!skip(response.statusCode) || Date.now() > deadline) return response;
    await sleep(100);
  }
}

describe('RedisReplayStore: the start key and the per-key share, on a real Redis (injected clock)', () => {
  let store: RedisReplayStore;
  before(async () => {
    const connectedAfter = Date.now();
    store = new RedisReplayStore(redis.url, { maxPerKey: 3 });
    // Connected once a command without the rules passes (retried, bounded).
    for (let i = 0; i < 50 && !(await store.remember('warm', Date.now() + 1_000, Date.now()).catch(() => false)); i += 1) await sleep(50);
    const start = Number(await redisCommand(redis.url, 'GET', START_KEY));
    assert.ok(start >= connectedAfter && start <= Date.now(), 'the store writes the start key when it connects');
    // Then the memory is lost without a reconnect: the script must notice on the next proof.
    await redisCommand(redis.url, 'FLUSHALL');
  });
  after(() => store.close());
  // The first call may come before the client is connected: retried (bounded) until Redis answers.
  async function remember(key: string, expiresAt: number, now: number, source: { jkt: string; issuedAt: number }): Promise<boolean> {
    for (let i = 0; ; i += 1) {
      try {
        return await store.remember(key, expiresAt, now, source);
      } catch (error) {
        if (!(error instanceof ReplayStoreUnavailableError && error.cause !== undefined && i < 50)) throw error;
        await sleep(50);
      }
    }
  }
  const t0 = 1_700_000_000_000;

  it('FLUSHALL: the next proof sets the start key; proofs before it 401, within 10 s after it 503, then recorded', async () => {
    await assert.rejects(remember('old', t0 + 60_000, t0, { jkt: 'a', issuedAt: t0 - 1_000 }), (error: unknown) => {
      assert.ok(error instanceof InvalidDpopProofError);
      assert.equal(error.check, 'store_restart');
      return true;
    });
    assert.equal(await redisCommand(redis.url, 'GET', START_KEY), String(t0));
    await assert.rejects(remember('edge', t0 + 60_000, t0 + 1_000, { jkt: 'a', issuedAt: t0 + REDIS_START_MARGIN_MS - 1_000 }), (error: unknown) => {
      assert.ok(error instanceof ReplayStoreUnavailableError);
      // 9 s of margin left, plus one for whole-second iat.
      assert.equal(error.headers['retry-after'], '10');
      return true;
    });
    const later = t0 + REDIS_START_MARGIN_MS;
    assert.equal(await remember('fresh', later + 60_000, later, { jkt: 'a', issuedAt: later }), true);
    assert.equal(await remember('fresh', later + 60_000, later, { jkt: 'a', issuedAt: later }), false);
  });

  it('one key holds at most its share (429 with Retry-After); another key records; the share lapses with the entries', async () => {
    const now = t0 + 60_000;
    const source = (jkt: string) => ({ jkt, issuedAt: now });
    for (const [key, ttl] of [['s1', 30_000], ['s2', 40_000], ['s3', 50_000]] as const) {
      assert.equal(await remember(key, now + ttl, now, source('share')), true);
    }
    await assert.rejects(remember('s4', now + 70_000, now, source('share')), (error: unknown) => {
      assert.ok(error instanceof DpopKeyShareFullError);
      // Until its earliest entry (s1) lapses.
      assert.equal(error.headers['retry-after'], '30');
      return true;
    });
    assert.equal(await remember('s1', now + 30_000, now, source('share')), false, 'a replay is still a replay');
    assert.equal(await remember('other', now + 70_000, now, source('another-key')), true);
    const afterLapse = now + 30_001;
    assert.equal(await remember('s4', afterLapse + 70_000, afterLapse, source('share')), true);
  });
});

describe('the API on a Redis restarted empty', () => {
  let h: DpopHarness;
  before(async () => {
    await redisCommand(redis.url, 'SET', START_KEY, String(Date.now() - 60_000));
    h = await startDpopHarness({ redisUrl: redis.url });
  });
  after(() => h.close());

  it('the proof accepted before the restart is refused after it (401 invalid_dpop_proof); a fresh one gets 503 with Retry-After', async () => {
    // Made 2 s ago (well inside the 65 s window), so its whole-second iat ended before the restart
    // however fast the restart comes: one in the same second would be ambiguous (503), as it should be.
    const proof = await h.proof(h.userToken, undefined, { claims: { iat: Math.floor(Date.now() / 1000) - 2 } });
    assert.equal((await untilNot((status) => status === 503, () => h.dpop(h.userToken, proof))).statusCode, 200);
    await redis.stop();
    await redis.start();
    const mark = h.logs.length;
    // 503 while the API reconnects; then the replay reaches the script, which finds no start key.
    const replay = await untilNot((status) => status === 503, () => h.dpop(h.userToken, proof));
    assert.equal(replay.statusCode, 401);
    assert.match(String(replay.headers['www-authenticate']), /error="invalid_dpop_proof"/);
    assert.deepEqual(h.refusalSince(mark), { code: 'ERR_INVALID_DPOP_PROOF', check: 'store_restart' });
    const fresh = await h.dpop(h.userToken, await h.proof(h.userToken));
    assert.equal(fresh.statusCode, 503);
    const wait = Number(fresh.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 11, `Retry-After ${String(fresh.headers['retry-after'])}`);
  });
});

describe('the API process restarted (in-memory store)', () => {
  let tenant: TestTenant;
  let key: DpopClientKey;
  let token: string;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  let origin: string;
  before(async () => {
    let port: number;
    ({ tenant, key, token, port, origin } = await dpopProcessSetup());
    env = { AUTH0_DOMAIN: tenant.tenant.url, AUTH0_AUDIENCE: tenant.config.audience, PORT: String(port), HOST: '127.0.0.1', API_ORIGIN: origin, LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await server?.stop();
    await tenant.close();
  });

  async function start(): Promise<void> {
    server = await startServerProcess(env);
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${origin}/api/messages/public`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) assert.fail('the API did not start');
      await sleep(50);
    }
  }
  const call = async (proof: string) => {
    const response = await fetch(`${origin}${PROTECTED}`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), challenge: response.headers.get('www-authenticate') ?? '', body: await response.text() };
  };
  const proofAt = (iatSeconds?: number) =>
    makeProof(key, { htu: `${origin}${PROTECTED}`, accessToken: token, ...(iatSeconds !== undefined && { claims: { iat: iatSeconds } }) });
  /**
   * The first request after a start, with a proof made at once: 200, never 503. The API listens only
   * once the second it started in is over, so no fresh proof is dated in it (the edge of the rule).
   */
  async function freshPassesAtOnce(): Promise<void> {
    const answer = await call(await proofAt());
    assert.equal(answer.status, 200, `a fresh proof right after the start: ${String(answer.status)} ${answer.body}`);
  }

  it('a proof accepted before the restart is refused after it; one made 5 s ahead too; fresh ones pass at once', async () => {
    await start();
    await freshPassesAtOnce();
    const accepted = await proofAt();
    assert.equal((await call(accepted)).status, 200);
    // The edge: a client clock 5 s ahead, as far as a proof may be, so its iat may fall after the
    // restart. The API asks such a proof for a nonce of its own process (use_dpop_nonce) first.
    const aheadIat = Math.floor(Date.now() / 1000) + 5;
    const asked = await call(await proofAt(aheadIat));
    assert.equal(asked.status, 401);
    assert.match(asked.challenge, /error="use_dpop_nonce"/);
    const nonceResponse = await fetch(`${origin}${PROTECTED}`, { headers: { authorization: `DPoP ${token}`, dpop: await proofAt(aheadIat) } });
    const nonce = nonceResponse.headers.get('dpop-nonce') ?? '';
    assert.notEqual(nonce, '');
    const ahead = await makeProof(key, { htu: `${origin}${PROTECTED}`, accessToken: token, claims: { iat: aheadIat, nonce } });
    assert.equal((await call(ahead)).status, 200);
    // iat counts whole seconds: a proof whose second overlaps the new process's start gets 503, not
    // 401 (it could as well be fresh). Restart in the next second, so `accepted` is plainly older.
    await sleep(1_010 - (Date.now() % 1_000));
    await server?.stop();
    await start();
    const replay = await call(accepted);
    assert.equal(replay.status, 401, replay.body);
    assert.match(replay.challenge, /error="invalid_dpop_proof"/);
    // Its nonce was the old process's: the new one asks for its own.
    const replayAhead = await call(ahead);
    assert.equal(replayAhead.status, 401, `the proof made ahead, replayed: ${String(replayAhead.status)}`);
    assert.match(replayAhead.challenge, /error="use_dpop_nonce"/);
    // A fresh proof passes at once, as on the first start.
    await freshPassesAtOnce();
    assert.equal((await call(accepted)).status, 401, 'still refused: by its age, then by replay and age');
  });
});
