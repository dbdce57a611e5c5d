import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { MESSAGES } from '../../src/messages/messages.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * The cached-Bearer fast path of `authorize` answers exactly as the full path does: every row is
 * sent twice to one app, first to warm the verified-token cache with the same token, then as
 * written in the row, and both answers must match what the full path gives (a fresh app, cache off).
 */

let tenant: TestTenant;
let cached: FastifyInstance;
let uncached: FastifyInstance;
const tokens: Record<'user' | 'admin' | 'bound', string> = { user: '', admin: '', bound: '' };

before(async () => {
  tenant = await startTestTenant();
  cached = await buildApp(apiConfigFor(tenant.tenant.url));
  uncached = await buildApp(apiConfigFor(tenant.tenant.url, { tokenCache: { maxEntries: 0, maxAgeSeconds: 0 } }));
  tokens.user = await tenant.token('user');
  tokens.admin = await tenant.token('admin');
  // A token bound to a key: never to be taken as Bearer, cached or not.
  tokens.bound = await tenant.sign({ cnf: { jkt: 'a'.repeat(43) } });
});
after(async () => {
  await cached.close();
  await uncached.close();
  await tenant.close();
});

type Row = readonly [name: string, path: string, token: keyof typeof tokens, header: (token: string) => string, status: number];

const ROWS: readonly Row[] = [
  ['Bearer <token>', '/api/messages/protected', 'user', (t) => `Bearer ${t}`, 200],
  ['admin token on /admin', '/api/messages/admin', 'admin', (t) => `Bearer ${t}`, 200],
  ['user token on /admin: 403 from the cache too', '/api/messages/admin', 'user', (t) => `Bearer ${t}`, 403],
  ['bound token as Bearer: 401 from the cache too', '/api/messages/protected', 'bound', (t) => `Bearer ${t}`, 401],
  ['lower-case scheme (full path)', '/api/messages/protected', 'user', (t) => `bearer ${t}`, 200],
  ['two spaces (full path)', '/api/messages/protected', 'user', (t) => `Bearer  ${t}`, 200],
  ['trailing space (full path)', '/api/messages/protected', 'user', (t) => `Bearer ${t} `, 200],
  ['a cached token followed by extra parts: 400', '/api/messages/protected', 'user', (t) => `Bearer ${t} extra`, 400],
  ['a cached token with a character added: 401', '/api/messages/protected', 'user', (t) => `Bearer x${t}`, 401],
  ['a cached token cut short: 401', '/api/messages/protected', 'user', (t) => `Bearer ${t.slice(1)}`, 401],
  ['a cached token after another scheme: 401', '/api/messages/protected', 'user', (t) => `Basic ${t}`, 401],
];

describe('authorize: the cached fast path answers as the full path', () => {
  for (const [name, path, token, header, status] of ROWS) {
    it(name, async () => {
      const warm = await cached.inject({ url: path, headers: { authorization: `Bearer ${tokens[token]}` } });
      assert.ok([200, 401, 403].includes(warm.statusCode));
      const fast = await cached.inject({ url: path, headers: { authorization: header(tokens[token]) } });
      const full = await uncached.inject({ url: path, headers: { authorization: header(tokens[token]) } });
      assert.equal(fast.statusCode, status, fast.body);
      assert.equal(full.statusCode, status, full.body);
      assert.equal(fast.body, full.body);
      assert.equal(fast.headers['www-authenticate'], full.headers['www-authenticate']);
      if (status === 200) assert.ok(Object.values(MESSAGES).some((message) => message === fast.json<{ message: string }>().message));
    });
  }
});
