import assert from 'node:assert/strict';
import { type TestContext, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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
 */
describe('the replay store across processes whose clocks differ', () => {
  async function apiWithClock(t: TestContext, tenantUrl: string, store: ReplayStore, offsetMs: number): Promise<FastifyInstance> {
    const config = apiConfigFor(tenantUrl);
    const issuers = IssuerRegistry.fromConfig(config.auth);
    const verifier = createTokenVerifier({ auth: config.auth, issuers, cache: null });
    const authenticator = createAuthenticator({
      verifier,
      dpop: { ...config.dpop, origins: [API_ORIGIN] },
      resourceMetadataUrl: `${API_ORIGIN}/.well-known/oauth-protected-resource`,
      replayStore: store,
      nonces: null,
      now: () => Date.now() + offsetMs,
    });
    const app = Fastify();
    registerErrorHandling(app);
    app.get(PROTECTED, { onRequest: authorize(authenticator) }, () => ({ ok: true }));
    t.after(() => app.close());
    return app;
  }

  it('a proof replayed to the process whose clock is 3 s behind, after the first one\'s entry would lapse: 401', async (t) => {
    const tt = await startTestTenant({ t });
    // Remembering for two minutes already: the 61 s old proof is not one from before the store's memory.
    const store = new MemoryReplayStore(1000, () => new ReplayStoreUnavailableError(), { startedAt: Date.now() - 120_000 });
    const ahead = await apiWithClock(t, tt.tenant.url, store, 3_000);
    const behind = await apiWithClock(t, tt.tenant.url, store, 0);
    const key = await dpopClientKey();
    const token = await boundToken(tt, key, 'user');
    // 61 s old by the real clock: 64 s for the process ahead, still inside its 65 s window.
    const proof = await makeProof(key, { htu: `${API_ORIGIN}${PROTECTED}`, accessToken: token, claims: { iat: Math.floor(Date.now() / 1000) - 61 } });
    const send = (app: FastifyInstance) => app.inject({ method: 'GET', url: PROTECTED, headers: { authorization: `DPoP ${token}`, dpop: proof } });

    assert.equal((await send(ahead)).statusCode, 200);
    // The process ahead sees about 1 s left of the window; wait past that.
    await sleep(1_500);
    const replay = await send(behind);
    assert.equal(replay.statusCode, 401, 'the process behind still finds the proof in its window, so the store must still hold it');
  });
});
