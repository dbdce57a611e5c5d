import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasPermission } from '../../src/auth/permissions.js';

const PERMISSION = 'read:admin-messages';

describe('hasPermission', () => {
  const granted: unknown[] = [[PERMISSION], ['read:messages', PERMISSION], [PERMISSION, PERMISSION]];
  for (const permissions of granted) {
    it(`grants for ${JSON.stringify(permissions)}`, () => {
      assert.equal(hasPermission({ permissions }, PERMISSION), true);
    });
  }

  // Every shape a confused or hostile token might carry: none of them may grant access.
  const refused: unknown[] = [
    undefined,
    null,
    PERMISSION,
    `${PERMISSION} other`,
    [],
    ['read:admin'],
    ['read:admin-messages-extra'],
    ['READ:ADMIN-MESSAGES'],
    [' read:admin-messages'],
    [[PERMISSION]],
    [PERMISSION, 42],
    [{ permission: PERMISSION }],
    { 0: PERMISSION, length: 1 },
    { [PERMISSION]: true },
    true,
    1,
  ];
  for (const permissions of refused) {
    it(`refuses for ${permissions === undefined ? 'a missing claim' : JSON.stringify(permissions)}`, () => {
      const claims = permissions === undefined ? {} : { permissions };
      assert.equal(hasPermission(claims, PERMISSION), false);
    });
  }

  it('does not read scope instead of permissions', () => {
    assert.equal(hasPermission({ scope: PERMISSION }, PERMISSION), false);
  });
});
