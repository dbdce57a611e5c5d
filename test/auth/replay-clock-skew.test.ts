import assert from 'node:assert/strict';
import { type TestContext, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { authorize } from '../../src/auth/authorize.js';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { MemoryReplayStore, type ReplayStore } from '../../src/auth/replay-store.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { registerErrorHandling } from '../../src/errors/error-handler.js';
import { ReplayStoreUnavailableError } from '../../src/errors/http-errors.js';
import { dpopClientKey, makeProof } from '../helpers/dpop.js';
import { API_ORIGIN, PROTECTED, boundToken } from '../helpers/dpop-harness.js';
import { apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * Two API processes share one replay store (as workers or replicas share Redis), and their clocks
 * differ by a few seconds, within the 5 s skew the proof window already allows. A proof accepted
 * near the end of its window by the process whose clock is ahead must still be refused by the
 * other one: its replay entry has to outlive the window as every process sees it.
 * Both processes and the store run on one fake clock, so how fast this machine runs changes nothing.
 */
describe('the replay store across processes whose clocks differ', () => {
  async function apiWithClock(t: TestContext, tenantUrl: string, store: ReplayStore, now: () => number): Promise<FastifyInstance> {
    const config = apiConfigFor(tenantUrl);
    const issuers = IssuerRegistry.fromConfig(config.auth);
    const verifier = createTokenVerifier({ auth: config.auth, issuers, cache: null });
    const authenticator = createAuthenticator({
      verifier,
      dpop: { ...config.dpop, origins: [API_ORIGIN] },
      resourceMetadataUrl: `${API_ORIGIN}/.well-known/oauth-protected-resource`,
      replayStore: store,
      nonces: null,
      now,
    });
    const app = Fastify();
    registerErrorHandling(app);
    app.get(PROTECTED, { onRequest: authorize(authenticator) }, () => ({ ok: true }));
    t.after(() => app.close());
    return app;
  }

  it('a proof replayed to the process whose clock is 3 s behind, after the first one\'s entry would lapse: 401', async (t) => {
    const tt = await startTestTenant({ t });
    // The real time when the test starts, then moved only by the test (the token's own checks use the real clock).
    const clock = { ms: Date.now() };
    // Remembering for two minutes already: the 61 s old proof is not one from before the store's memory.
    const store = new MemoryReplayStore(1000, () => new ReplayStoreUnavailableError(), { startedAt: clock.ms - 120_000, clock: () => clock.ms });
    const ahead = await apiWithClock(t, tt.tenant.url, store, () => clock.ms + 3_000);
    const behind = await apiWithClock(t, tt.tenant.url, store, () => clock.ms);
    const key = await dpopClientKey();
    const token = await boundToken(tt, key, 'user');
    // 61 s old by the clock: 64 s for the process ahead, still inside its 65 s window.
    const proof = await makeProof(key, { htu: `${API_ORIGIN}${PROTECTED}`, accessToken: token, claims: { iat: Math.floor(clock.ms / 1000) - 61 } });
    const send = (app: FastifyInstance) => app.inject({ method: 'GET', url: PROTECTED, headers: { authorization: `DPoP ${token}`, dpop: proof } });

    assert.equal((await send(ahead)).statusCode, 200);
    // The process ahead sees about 1 s left of the window; move past that.
    clock.ms += 1_500;
    const replay = await send(behind);
    assert.equal(replay.statusCode, 401, 'the process behind still finds the proof in its window, so the store must still hold it');
  });
});
