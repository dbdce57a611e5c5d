import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RefreshGrant, RefreshTokenStore } from '../../src/dev-tenant/refresh-tokens.js';

const GRANT: RefreshGrant = {
  clientId: 'hello-world-spa',
  userId: 'auth0|000000000000000000000001',
  sessionId: 'session-1',
  authTime: 1_000,
  scope: ['openid', 'offline_access'],
  audience: 'https://hello-world.example.com',
};
const NOW = 1_000;

function rotated(store: RefreshTokenStore, token: string, clientId = GRANT.clientId, now = NOW): string {
  const result = store.rotate(token, clientId, now);
  assert.ok(result.ok, JSON.stringify(result));
  return result.refreshToken;
}

describe('refresh tokens', () => {
  it('rotate: each use returns a new token for the same grant', () => {
    const store = new RefreshTokenStore();
    const { refreshToken } = store.issue(GRANT, NOW);
    const result = store.rotate(refreshToken, GRANT.clientId, NOW);
    assert.ok(result.ok);
    assert.deepEqual(result.grant, GRANT);
    assert.notEqual(result.refreshToken, refreshToken);
    rotated(store, result.refreshToken);
  });

  it('detect reuse: a retired token revokes the whole family, its newest token included', () => {
    const store = new RefreshTokenStore();
    const { refreshToken: first } = store.issue(GRANT, NOW);
    const second = rotated(store, first);
    assert.deepEqual(store.rotate(first, GRANT.clientId, NOW), { ok: false, reason: 'reused' });
    assert.deepEqual(store.rotate(second, GRANT.clientId, NOW), { ok: false, reason: 'unknown' });
  });

  it('leave other families alone when one is revoked', () => {
    const store = new RefreshTokenStore();
    const a = store.issue(GRANT, NOW);
    const b = store.issue(GRANT, NOW);
    store.revokeFamily(a.family);
    assert.deepEqual(store.rotate(a.refreshToken, GRANT.clientId, NOW), { ok: false, reason: 'unknown' });
    rotated(store, b.refreshToken);
  });

  it('are revoked with the session that started them', () => {
    const store = new RefreshTokenStore();
    const mine = store.issue(GRANT, NOW);
    const other = store.issue({ ...GRANT, sessionId: 'session-2' }, NOW);
    store.revokeSession('session-1');
    assert.deepEqual(store.rotate(mine.refreshToken, GRANT.clientId, NOW), { ok: false, reason: 'unknown' });
    rotated(store, other.refreshToken);
  });

  it('belong to the client they were issued to', () => {
    const store = new RefreshTokenStore();
    const { refreshToken } = store.issue(GRANT, NOW);
    assert.deepEqual(store.rotate(refreshToken, 'another-client', NOW), { ok: false, reason: 'wrong_client' });
    rotated(store, refreshToken);
  });

  it('bound to a DPoP key: refused without that key\'s thumbprint, and not used up by the refusal', () => {
    const store = new RefreshTokenStore();
    const { refreshToken } = store.issue({ ...GRANT, jkt: 'key-a' }, NOW);
    assert.deepEqual(store.rotate(refreshToken, GRANT.clientId, NOW), { ok: false, reason: 'wrong_key' });
    assert.deepEqual(store.rotate(refreshToken, GRANT.clientId, NOW, 'key-b'), { ok: false, reason: 'wrong_key' });
    const result = store.rotate(refreshToken, GRANT.clientId, NOW, 'key-a');
    assert.ok(result.ok);
    assert.deepEqual(store.rotate(result.refreshToken, GRANT.clientId, NOW), { ok: false, reason: 'wrong_key' });
  });

  it('expire with the family lifetime however often they rotate (30 days by default)', () => {
    const store = new RefreshTokenStore({ lifetimeSeconds: 100 });
    const { refreshToken } = store.issue(GRANT, NOW);
    const next = rotated(store, refreshToken, GRANT.clientId, NOW + 99);
    assert.deepEqual(store.rotate(next, GRANT.clientId, NOW + 100), { ok: false, reason: 'unknown' });
  });

  it('know nothing of a token they did not issue', () => {
    assert.deepEqual(new RefreshTokenStore().rotate('made-up', GRANT.clientId, NOW), { ok: false, reason: 'unknown' });
  });
});
