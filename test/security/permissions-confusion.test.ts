import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import { DPOP_CHALLENGE, resourceMetadata } from '../helpers/dpop.js';
import { type Harness, assertRefused, assertStillServing, b64, bearer, signJson, signSegments, startHarness } from './helpers.js';

/**
 * Permission-claim confusion on /api/messages/admin. Every token here is genuinely signed by the
 * tenant and valid in every other way, so the only thing under test is how `permissions` is read:
 * anything but an array of strings holding exactly "read:admin-messages" is 403, never 200 or 5xx.
 */
interface Vector {
  readonly name: string;
  readonly makeToken: (h: Harness) => string;
  readonly expectedStatus: 200 | 401 | 403;
}

const ADMIN = '/api/messages/admin';
let h: Harness;
before(async () => { h = await startHarness(); });
after(() => h.close());

const withClaims = (claims: Record<string, unknown>) => (x: Harness) => signJson(x.header(), x.claims(claims), x.privateKey);
/** Raw claims JSON appended to valid claims, for shapes JSON.stringify cannot write (duplicates, __proto__). */
const withRawClaims = (rawMembers: string, drop: readonly string[] = ['permissions']) => (x: Harness) => {
  const base = Object.fromEntries(Object.entries(x.claims()).filter(([name]) => !drop.includes(name)));
  return signSegments(b64(x.header()), b64(`${JSON.stringify(base).slice(0, -1)},${rawMembers}}`), x.privateKey);
};

const P = ADMIN_PERMISSION;
const shapes: [string, unknown][] = [
  ['missing', undefined],
  ['null', null],
  ['the permission as a string', P],
  ['a space-separated string holding it', `openid ${P}`],
  ['an empty array', []],
  ['a prefix', ['read:admin']],
  ['a superstring', [`${P}-extra`]],
  ['a wildcard', ['*']],
  ['read:*', ['read:*']],
  ['upper case', [P.toUpperCase()]],
  ['leading white space', [` ${P}`]],
  ['trailing white space', [`${P} `]],
  ['a trailing NUL', [`${P}\u0000`]],
  ['a Unicode look-alike hyphen', [P.replace('-', '\u2010')]],
  ['full-width characters', [P.replace('r', '\uff52')]],
  ['nested in an array', [[P]]],
  ['deeply nested', [[[P]]]],
  ['next to a number', [P, 42]],
  ['next to null', [P, null]],
  ['inside an object member', [{ permission: P }]],
  ['an object keyed by it', { [P]: true }],
  ['an array-like object', { 0: P, length: 1 }],
  ['true', true],
  ['1', 1],
  ['10 000 other permissions', Array.from({ length: 10_000 }, (_, i) => `perm:${i}`)],
];

const VECTORS: Vector[] = [
  ...shapes.map(([name, permissions]): Vector => ({ name: `permissions ${name}`, makeToken: withClaims({ permissions }), expectedStatus: 403 })),
  { name: 'the permission in scope instead of permissions', makeToken: withClaims({ permissions: undefined, scope: P }), expectedStatus: 403 },
  { name: 'the permission in a singular "permission" claim', makeToken: withClaims({ permissions: undefined, permission: [P] }), expectedStatus: 403 },
  { name: 'the permission in a namespaced custom claim', makeToken: withClaims({ permissions: undefined, 'https://example.com/permissions': [P] }), expectedStatus: 403 },
  { name: 'permissions under "__proto__" (prototype pollution)', makeToken: withRawClaims(`"__proto__":{"permissions":["${P}"]}`), expectedStatus: 403 },
  { name: 'permissions under "constructor"', makeToken: withRawClaims(`"constructor":{"prototype":{"permissions":["${P}"]}}`), expectedStatus: 403 },
  { name: 'duplicate permissions, granted first and empty last (last wins)', makeToken: withRawClaims(`"permissions":["${P}"],"permissions":[]`), expectedStatus: 403 },
  { name: 'control: duplicate permissions, empty first and granted last (last wins)', makeToken: withRawClaims(`"permissions":[],"permissions":["${P}"]`), expectedStatus: 200 },
  { name: 'control: exactly the permission', makeToken: withClaims({ permissions: [P] }), expectedStatus: 200 },
  { name: 'control: the permission among others', makeToken: withClaims({ permissions: ['read:messages', P] }), expectedStatus: 200 },
  { name: 'an otherwise invalid token with the permission is 401, not 403', makeToken: withClaims({ permissions: [P], exp: 1 }), expectedStatus: 401 },
];

describe('permission-claim confusion on /api/messages/admin', () => {
  for (const vector of VECTORS) {
    it(`${vector.expectedStatus} for ${vector.name}`, async () => {
      const response = await h.app.inject({ method: 'GET', url: ADMIN, headers: bearer(vector.makeToken(h)) });
      if (vector.expectedStatus === 200) assert.equal(response.statusCode, 200, response.body);
      else assertRefused(response, vector.expectedStatus, vector.name);
      if (vector.expectedStatus === 403) {
        assert.equal(response.headers['www-authenticate'], `Bearer realm="api", error="insufficient_scope", scope="${P}", ${resourceMetadata()}, ${DPOP_CHALLENGE}`);
      }
      await assertStillServing(h);
    });
  }

  it('a token refused on /admin for its permissions still works on /protected', async () => {
    const token = withClaims({ permissions: P })(h);
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/messages/protected', headers: bearer(token) })).statusCode, 200);
  });
});
