import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthorizationRequest } from '../../src/dev-tenant/authorization-request.js';
import { LoginTransactionStore, SessionStore } from '../../src/dev-tenant/sessions.js';

const NOW = 1_000;

describe('sessions', () => {
  it('are found by their random id until their lifetime ends', () => {
    const sessions = new SessionStore({ lifetimeSeconds: 60 });
    const session = sessions.create('auth0|1', NOW);
    assert.match(session.id, /^[\w-]{43}$/);
    assert.deepEqual(sessions.get(session.id, NOW + 59), { id: session.id, userId: 'auth0|1', authTime: NOW });
    assert.equal(sessions.get(session.id, NOW + 60), undefined);
  });

  it('end on logout', () => {
    const sessions = new SessionStore({ lifetimeSeconds: 60 });
    const session = sessions.create('auth0|1', NOW);
    sessions.end(session.id);
    assert.equal(sessions.get(session.id, NOW), undefined);
  });

  it('are unknown without a cookie or with a made-up one', () => {
    const sessions = new SessionStore({ lifetimeSeconds: 60 });
    sessions.create('auth0|1', NOW);
    assert.equal(sessions.get(undefined, NOW), undefined);
    assert.equal(sessions.get('made-up', NOW), undefined);
  });
});

describe('login transactions', () => {
  const request: AuthorizationRequest = {
    clientId: 'hello-world-spa',
    redirectUri: 'http://localhost:4040/callback',
    responseMode: 'query',
    state: 'state',
    nonce: 'nonce',
    scope: ['openid'],
    audience: 'https://hello-world.example.com',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    prompt: undefined,
    maxAge: undefined,
    screenHint: undefined,
  };

  it('hold the /authorize request for 10 minutes, then expire', () => {
    const transactions = new LoginTransactionStore();
    const id = transactions.start(request, NOW);
    assert.equal(transactions.get(id, NOW + 599), request);
    assert.equal(transactions.get(id, NOW + 600), undefined);
  });

  it('complete once', () => {
    const transactions = new LoginTransactionStore();
    const id = transactions.start(request, NOW);
    transactions.finish(id);
    assert.equal(transactions.get(id, NOW), undefined);
  });
});
