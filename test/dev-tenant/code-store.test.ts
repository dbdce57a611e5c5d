import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationCodeStore, type CodeGrant } from '../../src/dev-tenant/code-store.js';

const GRANT: CodeGrant = {
  clientId: 'hello-world-spa',
  redirectUri: 'http://localhost:4040/callback',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  userId: 'auth0|000000000000000000000001',
  sessionId: 'session',
  authTime: 1_000,
  scope: ['openid'],
  audience: 'https://hello-world.example.com',
  nonce: 'n',
};
const NOW = 1_000;

describe('authorization codes', () => {
  it('redeem once to the grant they were issued for', () => {
    const store = new AuthorizationCodeStore();
    const code = store.issue(GRANT, NOW);
    assert.match(code, /^[\w-]{43}$/);
    const first = store.redeem(code, NOW + 1);
    assert.deepEqual(first, { ok: true, grant: GRANT, code });
  });

  it('are different every time', () => {
    const store = new AuthorizationCodeStore();
    assert.notEqual(store.issue(GRANT, NOW), store.issue(GRANT, NOW));
  });

  it('report a second redemption as a replay, with the refresh family the first one issued', () => {
    const store = new AuthorizationCodeStore();
    const code = store.issue(GRANT, NOW);
    assert.equal(store.redeem(code, NOW).ok, true);
    store.recordRefreshFamily(code, 'family-1', NOW);
    assert.deepEqual(store.redeem(code, NOW), { ok: false, reason: 'replayed', refreshFamily: 'family-1' });
  });

  it('expire after their lifetime (60 s by default)', () => {
    const store = new AuthorizationCodeStore();
    const code = store.issue(GRANT, NOW);
    assert.deepEqual(store.redeem(code, NOW + 60), { ok: false, reason: 'unknown' });
    const custom = new AuthorizationCodeStore({ lifetimeSeconds: 5 });
    const short = custom.issue(GRANT, NOW);
    assert.equal(custom.redeem(short, NOW + 4).ok, true);
  });

  it('know nothing of a code they did not issue', () => {
    assert.deepEqual(new AuthorizationCodeStore().redeem('made-up', NOW), { ok: false, reason: 'unknown' });
  });

  it('stay bounded: the oldest code goes when full', () => {
    const store = new AuthorizationCodeStore({ maxEntries: 2 });
    const oldest = store.issue(GRANT, NOW);
    store.issue(GRANT, NOW);
    store.issue(GRANT, NOW);
    assert.deepEqual(store.redeem(oldest, NOW), { ok: false, reason: 'unknown' });
  });
});
