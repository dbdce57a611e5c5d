import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CachedToken, TokenCache } from '../../src/auth/token-cache.js';

/** The verified-token cache finds entries by the token's tail, and takes only the exact token. */

const NOW = 1_700_000_000_000;
const keys = { hasFreshKid: (kid: string) => kid === 'fresh' };
const tail = 'S'.repeat(TokenCache.KEY_LENGTH);
const entry = (token: string, overrides: Partial<CachedToken> = {}): CachedToken => ({
  token,
  claims: { sub: token.slice(0, 8) },
  kid: 'fresh',
  keys,
  expiresAt: NOW + 60_000,
  ...overrides,
});

describe('TokenCache', () => {
  it('answers the exact token it holds, and counts the hit', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeSeconds: 300 });
    cache.set(entry(`head-one.${tail}`), NOW);
    assert.equal(cache.get(`head-one.${tail}`, NOW, 0)?.claims.sub, 'head-one');
    assert.deepEqual([cache.hits, cache.misses], [1, 0]);
  });

  it('never takes another token with the same tail for it (a miss)', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeSeconds: 300 });
    cache.set(entry(`head-one.${tail}`), NOW);
    assert.equal(cache.get(`head-two.${tail}`, NOW, 0), undefined);
    assert.equal(cache.get(tail, NOW, 0), undefined);
    assert.deepEqual([cache.hits, cache.misses], [0, 2]);
  });

  it('a second token with the same tail only evicts the first', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeSeconds: 300 });
    cache.set(entry(`head-one.${tail}`), NOW);
    cache.set(entry(`head-two.${tail}`), NOW);
    assert.equal(cache.get(`head-one.${tail}`, NOW, 0), undefined);
    assert.equal(cache.get(`head-two.${tail}`, NOW, 0)?.claims.sub, 'head-two');
  });

  it('refuses an expired entry (with the tolerance) and one whose key is not fresh', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeSeconds: 300 });
    cache.set(entry(`expiring.${tail}`), NOW);
    assert.notEqual(cache.get(`expiring.${tail}`, NOW + 64_000, 5_000), undefined);
    assert.equal(cache.get(`expiring.${tail}`, NOW + 65_000, 5_000), undefined);
    cache.set(entry(`stale-key.${tail}`, { kid: 'rotated' }), NOW);
    assert.equal(cache.get(`stale-key.${tail}`, NOW, 0), undefined);
  });

  it('peek counts a hit but not a miss', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeSeconds: 300 });
    cache.set(entry(`head-one.${tail}`), NOW);
    assert.notEqual(cache.peek(`head-one.${tail}`, NOW, 0), undefined);
    assert.equal(cache.peek(`head-two.${tail}`, NOW, 0), undefined);
    assert.deepEqual([cache.hits, cache.misses], [1, 0]);
  });
});
