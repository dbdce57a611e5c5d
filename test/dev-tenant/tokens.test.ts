import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { userFor } from '../../src/dev-tenant/config.js';
import { loadOrCreateSigningKeys, type SigningKey } from '../../src/dev-tenant/signing-keys.js';
import { tempKeysDir } from '../helpers/tenant.js';
import { profileClaims, signAccessToken, signIdToken, userAccessTokenAudience } from '../../src/dev-tenant/tokens.js';

const ISSUER = 'http://localhost:6061/';
const NOW = 1_700_000_000;
const user = userFor('admin@example.com', ['read:admin-messages']);

async function signingKey(t: TestContext): Promise<SigningKey> {
  return (await loadOrCreateSigningKeys(await tempKeysDir(t))).current;
}

describe('token claims', () => {
  it('an access token has exactly the claims the grant gives plus iss, iat, exp, and RS256/JWT/kid', async (t) => {
    const key = await signingKey(t);
    const token = await signAccessToken(
      { key, idTokenKey: key, issuer: ISSUER, nowSeconds: NOW },
      { sub: user.userId, aud: ['api', `${ISSUER}userinfo`], azp: 'spa', scope: 'openid', permissions: user.permissions },
      600,
    );
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'JWT', kid: key.kid });
    assert.deepEqual(decodeJwt(token), {
      iss: ISSUER,
      sub: user.userId,
      aud: ['api', `${ISSUER}userinfo`],
      azp: 'spa',
      scope: 'openid',
      permissions: ['read:admin-messages'],
      iat: NOW,
      exp: NOW + 600,
    });
  });

  // [granted scope, expected aud]
  const audiences: [string[], string | string[]][] = [
    [['openid', 'profile'], ['api', `${ISSUER}userinfo`]],
    [['profile'], 'api'],
  ];
  for (const [scope, aud] of audiences) {
    it(`a user's access token for scope "${scope.join(' ')}" has aud ${JSON.stringify(aud)}`, () => {
      assert.deepEqual(userAccessTokenAudience('api', ISSUER, scope), aud);
    });
  }

  // [scope, claim names]
  const profiles: [string[], string[]][] = [
    [['openid'], []],
    [['openid', 'profile'], ['name', 'nickname', 'picture']],
    [['openid', 'email'], ['email', 'email_verified']],
    [['openid', 'profile', 'email'], ['email', 'email_verified', 'name', 'nickname', 'picture']],
  ];
  for (const [scope, names] of profiles) {
    it(`profile claims for "${scope.join(' ')}": ${names.join(', ') || 'none'}`, () => {
      assert.deepEqual(Object.keys(profileClaims(user, scope)).sort(), names);
    });
  }

  it('an ID token: aud = client, nonce, auth_time, sid (not the session id), 10 h', async (t) => {
    const key = await signingKey(t);
    const token = await signIdToken(
      { key, idTokenKey: key, issuer: ISSUER, nowSeconds: NOW },
      { user, clientId: 'spa', scope: ['openid', 'email'], nonce: 'n-1', authTime: NOW - 5, sessionId: 'secret-session-id' },
    );
    const claims = decodeJwt(token);
    const { sid, ...rest } = claims;
    assert.deepEqual(rest, {
      iss: ISSUER,
      sub: user.userId,
      aud: 'spa',
      email: 'admin@example.com',
      email_verified: true,
      nonce: 'n-1',
      auth_time: NOW - 5,
      iat: NOW,
      exp: NOW + 36_000,
    });
    assert.equal(typeof sid, 'string');
    assert.ok(!String(sid).includes('secret'), 'sid does not reveal the session id');
  });
});
