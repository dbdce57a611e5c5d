import assert from 'node:assert/strict';
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { SigningAlgorithm } from '../../src/auth/jwks-keys.js';
import { DEFAULT_AUDIENCE } from '../../src/config/config.js';
import { parseConfig } from '../../src/server-config.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type SigningAlg, signJson } from '../security/helpers.js';

/**
 * AUTH0_SIGNING_ALGS and the key/algorithm match, over a real JWKS on loopback: a token's alg must
 * be listed, and the JWK its kid names must be for that alg (a JWK with `alg` only for that one).
 * Tokens are signed with node:crypto so a signature can be made with one algorithm and labelled
 * with another.
 */

const rsa = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys = { rs: rsa(), ps: rsa(), any: rsa() };
/** kid -> the JWK's alg (undefined: published without alg). */
const PUBLISHED: Readonly<Record<keyof typeof keys, SigningAlgorithm | undefined>> = { rs: 'RS256', ps: 'PS256', any: undefined };

let server: JwksServer;
let rsOnly: FastifyInstance;
let both: FastifyInstance;

async function apiWith(algorithms: string): Promise<FastifyInstance> {
  const config = parseConfig({ AUTH0_DOMAIN: server.url, AUTH0_AUDIENCE: DEFAULT_AUDIENCE, AUTH0_SIGNING_ALGS: algorithms, LOG_LEVEL: 'silent' });
  return buildApp(config);
}

before(async () => {
  const published = Object.entries(PUBLISHED).map(([kid, alg]) => ({
    ...keys[kid as keyof typeof keys].publicKey.export({ format: 'jwk' }),
    kid,
    use: 'sig',
    ...(alg && { alg }),
  }));
  server = await startJwksServer({ kind: 'json', body: { keys: published } });
  [rsOnly, both] = await Promise.all([apiWith('RS256'), apiWith('RS256,PS256')]);
});
after(async () => {
  await Promise.all([rsOnly.close(), both.close()]);
  await server.close();
});

interface Row {
  readonly name: string;
  readonly api: 'rsOnly' | 'both';
  readonly kid: keyof typeof keys;
  /** The alg written in the header. */
  readonly label: SigningAlg;
  /** The algorithm the signature is really made with (default: the label). */
  readonly signedWith?: SigningAlg;
  readonly expectedStatus: 200 | 401;
}

const ROWS: readonly Row[] = [
  { name: 'RS256 with the default list', api: 'rsOnly', kid: 'rs', label: 'RS256', expectedStatus: 200 },
  { name: 'PS256 when only RS256 is listed', api: 'rsOnly', kid: 'ps', label: 'PS256', expectedStatus: 401 },
  { name: 'PS256 on an alg-less key when only RS256 is listed', api: 'rsOnly', kid: 'any', label: 'PS256', expectedStatus: 401 },
  { name: 'PS256 when listed, key published for PS256', api: 'both', kid: 'ps', label: 'PS256', expectedStatus: 200 },
  { name: 'PS256 when listed, key published without alg', api: 'both', kid: 'any', label: 'PS256', expectedStatus: 200 },
  { name: 'RS256 when both are listed', api: 'both', kid: 'rs', label: 'RS256', expectedStatus: 200 },
  { name: 'RS256 on an alg-less key when both are listed', api: 'both', kid: 'any', label: 'RS256', expectedStatus: 200 },
  { name: 'a genuine RS256 signature by the key published for PS256', api: 'both', kid: 'ps', label: 'RS256', expectedStatus: 401 },
  { name: 'a genuine PS256 signature by the key published for RS256', api: 'both', kid: 'rs', label: 'PS256', expectedStatus: 401 },
  { name: 'RS256 relabelled PS256 (RS256 key)', api: 'both', kid: 'rs', label: 'PS256', signedWith: 'RS256', expectedStatus: 401 },
  { name: 'RS256 relabelled PS256 (alg-less key)', api: 'both', kid: 'any', label: 'PS256', signedWith: 'RS256', expectedStatus: 401 },
  { name: 'PS256 relabelled RS256 (PS256 key)', api: 'both', kid: 'ps', label: 'RS256', signedWith: 'PS256', expectedStatus: 401 },
  { name: 'PS256 relabelled RS256 (alg-less key)', api: 'both', kid: 'any', label: 'RS256', signedWith: 'PS256', expectedStatus: 401 },
  { name: 'PS384 with the key published without alg', api: 'both', kid: 'any', label: 'PS384', expectedStatus: 401 },
];

describe('signing algorithms', () => {
  for (const row of ROWS) {
    it(`${row.expectedStatus} for ${row.name}`, async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = signJson(
        { alg: row.label, typ: 'JWT', kid: row.kid },
        { iss: `${server.url}/`, aud: DEFAULT_AUDIENCE, sub: 'client@clients', iat: now, exp: now + 600 },
        keys[row.kid].privateKey,
        row.signedWith ?? row.label,
      );
      const app = row.api === 'both' ? both : rsOnly;
      const response = await app.inject({ url: '/api/messages/protected', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, row.expectedStatus, response.body);
    });
  }
});
