import assert from 'node:assert/strict';
import { readFile, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compactVerify, CompactSign, calculateJwkThumbprint, importJWK } from 'jose';
import {
  loadOrCreateSigningKeys,
  RETIRED_KEY_GRACE_SECONDS,
  rotateSigningKey,
  signingKeysFilePath,
  SigningKeysFileError,
} from '../../src/dev-tenant/signing-keys.js';
import { tempKeysDir } from '../helpers/tenant.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
const HOUR_MS = 60 * 60 * 1000;

describe('the dev tenant signing keys', () => {
  it('creates one key on first load and reuses it afterwards', async (t) => {
    const dir = join(await tempKeysDir(t), 'nested', 'keys');
    const first = await loadOrCreateSigningKeys(dir);
    const second = await loadOrCreateSigningKeys(dir);
    assert.equal(first.all.length, 1);
    assert.equal(first.current, first.all[0]);
    assert.equal(second.current.kid, first.current.kid);
    assert.deepEqual(second.current.publicJwk, first.current.publicJwk);
    assert.equal(second.current.createdAt.getTime(), first.current.createdAt.getTime());
    assert.equal(first.current.retiredAt, undefined);
    // Only the keys file is left behind: the temp file was renamed into place.
    assert.deepEqual(await readdir(dir), ['signing-keys.json']);
  });

  it('the keys file is readable by its owner only', async (t) => {
    const dir = await tempKeysDir(t);
    await loadOrCreateSigningKeys(dir);
    const mode = (await stat(signingKeysFilePath(dir))).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('the public JWK is an RS256 signing key without private members, kid = RFC 7638 thumbprint', async (t) => {
    const { current } = await loadOrCreateSigningKeys(await tempKeysDir(t));
    const jwk = current.publicJwk as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    for (const member of PRIVATE_MEMBERS) assert.equal(jwk[member], undefined, member);
    assert.equal(current.publicJwk.alg, 'RS256');
    assert.equal(current.publicJwk.use, 'sig');
    assert.equal(current.publicJwk.kty, 'RSA');
    assert.equal(current.publicJwk.e, 'AQAB');
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    assert.equal(Buffer.from(current.publicJwk.n, 'base64url').length, 256);
    assert.equal(current.kid, current.publicJwk.kid);
    assert.equal(current.kid, await calculateJwkThumbprint({ kty: 'RSA', n: current.publicJwk.n, e: current.publicJwk.e }));
  });

  it('the private key signs what the public JWK verifies', async (t) => {
    const { current } = await loadOrCreateSigningKeys(await tempKeysDir(t));
    const jws = await new CompactSign(new TextEncoder().encode('hello')).setProtectedHeader({ alg: 'RS256' }).sign(current.privateKey);
    const publicKey = await importJWK(current.publicJwk, 'RS256');
    const { payload } = await compactVerify(jws, publicKey);
    assert.equal(new TextDecoder().decode(payload), 'hello');
  });

  it('rotation puts a new key first and keeps the previous one, retired at the rotation time', async (t) => {
    const dir = await tempKeysDir(t);
    const created = new Date('2030-01-01T00:00:00.000Z');
    const rotated = new Date('2030-01-01T01:00:00.000Z');
    const before = await loadOrCreateSigningKeys(dir, created);
    const after = await rotateSigningKey(dir, rotated);
    assert.notEqual(after.current.kid, before.current.kid);
    assert.deepEqual(after.all.map((key) => key.kid), [after.current.kid, before.current.kid]);
    assert.equal(after.current.retiredAt, undefined);
    assert.equal(after.current.createdAt.toISOString(), rotated.toISOString());
    const previous = after.all[1];
    assert.ok(previous);
    assert.equal(previous.retiredAt?.toISOString(), rotated.toISOString());
    assert.equal(previous.createdAt.toISOString(), created.toISOString());

    // A later load sees the same thing (the rotation was persisted), and the mode survived the rewrite.
    const reloaded = await loadOrCreateSigningKeys(dir, rotated);
    assert.deepEqual(reloaded.all.map((key) => key.kid), after.all.map((key) => key.kid));
    assert.equal((await stat(signingKeysFilePath(dir))).mode & 0o777, 0o600);
  });

  it('rotating without a keys file creates a single current key', async (t) => {
    const keys = await rotateSigningKey(await tempKeysDir(t));
    assert.equal(keys.all.length, 1);
    assert.equal(keys.current.retiredAt, undefined);
  });

  it('retired keys are dropped once the grace period is over, on load and on rotation', async (t) => {
    const dir = await tempKeysDir(t);
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    const first = await loadOrCreateSigningKeys(dir, t0);
    const t1 = new Date(t0.getTime() + HOUR_MS);
    const second = await rotateSigningKey(dir, t1);
    const graceEnd = t1.getTime() + RETIRED_KEY_GRACE_SECONDS * 1000;

    const atGraceEnd = await loadOrCreateSigningKeys(dir, new Date(graceEnd));
    assert.deepEqual(atGraceEnd.all.map((key) => key.kid), [second.current.kid, first.current.kid]);

    const afterGrace = await loadOrCreateSigningKeys(dir, new Date(graceEnd + 1000));
    assert.deepEqual(afterGrace.all.map((key) => key.kid), [second.current.kid]);

    // Rotating after the grace period removes the expired key from the file as well.
    const third = await rotateSigningKey(dir, new Date(graceEnd + 1000));
    assert.deepEqual(third.all.map((key) => key.kid), [third.current.kid, second.current.kid]);
    const file = JSON.parse(await readFile(signingKeysFilePath(dir), 'utf8')) as { keys: { kid: string }[] };
    assert.deepEqual(file.keys.map((key) => key.kid), [third.current.kid, second.current.kid]);
  });

  it('a custom grace period is honoured', async (t) => {
    const dir = await tempKeysDir(t);
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    await loadOrCreateSigningKeys(dir, t0);
    await rotateSigningKey(dir, t0);
    const later = new Date(t0.getTime() + 2 * RETIRED_KEY_GRACE_SECONDS * 1000);
    assert.equal((await loadOrCreateSigningKeys(dir, later)).all.length, 1);
    assert.equal((await loadOrCreateSigningKeys(dir, later, 3 * RETIRED_KEY_GRACE_SECONDS)).all.length, 2);
  });

  it('a corrupt keys file gives a clear error that names the file', async (t) => {
    const dir = await tempKeysDir(t);
    const path = signingKeysFilePath(dir);
    await loadOrCreateSigningKeys(dir);
    const valid = JSON.parse(await readFile(path, 'utf8')) as { keys: { kid: string; privateJwk: Record<string, string> }[] };

    const cases: [string, string, RegExp][] = [
      ['truncated JSON', '{"version":1,"keys":[', /not valid JSON/],
      ['empty file', '', /not valid JSON/],
      ['wrong shape', JSON.stringify({ keys: 'nope' }), /version|keys/],
      ['no keys', JSON.stringify({ version: 1, keys: [] }), /keys/],
      ['missing private member', JSON.stringify({ version: 1, keys: [{ ...valid.keys[0], privateJwk: { ...valid.keys[0]?.privateJwk, d: undefined } }] }), /privateJwk\.d/],
      ['kid not the thumbprint', JSON.stringify({ version: 1, keys: [{ ...valid.keys[0], kid: 'someone-else' }] }), /thumbprint/],
    ];
    for (const [name, content, problem] of cases) {
      await writeFile(path, content);
      await assert.rejects(loadOrCreateSigningKeys(dir), (error: unknown) => {
        assert.ok(error instanceof SigningKeysFileError, name);
        assert.ok(error.message.includes(path), `${name}: ${error.message}`);
        assert.match(error.message, problem, name);
        assert.doesNotMatch(error.message, /\n/, name);
        return true;
      });
      // Rotation must not paper over a corrupt file either.
      await assert.rejects(rotateSigningKey(dir), SigningKeysFileError, name);
    }
  });
});
