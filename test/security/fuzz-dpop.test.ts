import assert from 'node:assert/strict';
import { generateKeyPairSync, randomInt, randomUUID, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { calculateJwkThumbprint } from 'jose';
import { accessTokenHash } from '../../src/auth/dpop-proof.js';
import { type DpopHarness, API_ORIGIN, PROTECTED, startDpopHarness } from '../helpers/dpop-harness.js';
import { assertRefused, b64 } from './helpers.js';

/**
 * Property-based fuzzing of DPoP proofs with fast-check, through app.inject on the real app over a
 * real dev tenant. Proofs are built raw (any header, any claims, signed by the client key with
 * node:crypto, or with a broken signature), near valid ones: up to three fields made wrong.
 * Properties, for every generated proof:
 * - nothing answers 5xx; every refusal is a bare {"message"} from the error table;
 * - a 2xx only ever answers a proof that an independent reading finds valid (genuine ES256
 *   signature by the client key checked with node:crypto, exact header, claims for this request,
 *   iat in the window) and whose jti was never accepted before.
 *
 * FUZZ_SEED (a number, or "random") and FUZZ_RUNS as in fuzz.test.ts; `npm run fuzz` runs both long.
 */
const SEED = process.env['FUZZ_SEED'] === 'random' ? randomInt(2 ** 31) : Number(process.env['FUZZ_SEED'] ?? 20_251_128);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
console.log(`# fuzz-dpop: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} node scripts/run-tests.mjs security/fuzz-dpop)`);
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

// The client key, as node:crypto objects so any header can be signed; the tenant binds the token to it.
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = client.publicKey.export({ format: 'jwk' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });

let h: DpopHarness;
let token: string;
const accepted = new Set<string>();
before(async () => {
  h = await startDpopHarness();
  token = await h.tenant.sign({ cnf: { jkt: await calculateJwkThumbprint(client.publicKey) } });
});
after(() => h.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

type Signature = 'genuine' | 'flipped' | 'empty' | 'other-input';

function buildProof(header: Record<string, unknown>, claims: Record<string, unknown>, signature: Signature): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const signed = (data: string) => cryptoSign('sha256', Buffer.from(data), { key: client.privateKey, dsaEncoding: 'ieee-p1363' });
  switch (signature) {
    case 'genuine': return `${input}.${signed(input).toString('base64url')}`;
    case 'flipped': {
      const bytes = signed(input);
      bytes[5] = (bytes[5] ?? 0) ^ 1;
      return `${input}.${bytes.toString('base64url')}`;
    }
    case 'empty': return `${input}.`;
    case 'other-input': return `${input}.${signed(`${input}x`).toString('base64url')}`;
  }
}

/** The independent reading: what a proof the API lets through must be. */
function acceptable(proof: string): boolean {
  const [headerPart = '', payloadPart = '', signature = ''] = proof.split('.');
  let genuine = false;
  try {
    genuine = cryptoVerify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key: client.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  } catch {
    genuine = false; // node:crypto throws on a signature of the wrong length
  }
  if (!genuine) return false;
  const header: unknown = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
  const claims: unknown = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  if (!isRecord(header) || !isRecord(claims)) return false;
  // Other header parameters (kid, jku...) are ignored: the key is always the jwk. crit is understood by no one.
  if ('crit' in header || header['typ'] !== 'dpop+jwt' || header['alg'] !== 'ES256') return false;
  if (JSON.stringify(header['jwk']) !== JSON.stringify(publicJwk)) return false;
  const { htm, htu, iat, jti, ath } = claims;
  if (htm !== 'GET' || ath !== accessTokenHash(token)) return false;
  if (typeof htu !== 'string' || !['https://api.example.com/api/messages/protected', 'HTTPS://API.EXAMPLE.COM/api/messages/protected', 'https://api.example.com:443/api/messages/protected'].includes(htu)) return false;
  if (typeof iat !== 'number' || iat > nowSeconds() + 5 || iat < nowSeconds() - 65) return false;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || accepted.has(jti)) return false;
  if ('exp' in claims && !(typeof claims['exp'] === 'number' && claims['exp'] > nowSeconds())) return false;
  return !('nbf' in claims);
}

const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined));
const headerChange = fc.oneof(
  fc.record({ typ: fc.oneof(fc.constantFrom('JWT', 'DPOP+JWT', 'application/dpop+jwt', 'at+jwt'), anything) }),
  fc.record({ alg: fc.oneof(fc.constantFrom('none', 'HS256', 'ES384', 'RS256', 'es256', 'EdDSA'), anything) }),
  fc.record({ jwk: fc.oneof(fc.constantFrom<unknown>(other, { ...publicJwk, d: 'AAAA' }, { kty: 'oct', k: 'AAAA' }, { ...publicJwk, crv: 'P-384' }), anything) }),
  fc.constantFrom<Record<string, unknown>>({ crit: ['exp'] }, { kid: 'x' }, { jku: 'http://127.0.0.1:9/' }),
);
const claimsChange = fc.oneof(
  fc.record({ htm: fc.oneof(fc.constantFrom('POST', 'get', 'HEAD', ''), anything) }),
  fc.record({
    htu: fc.oneof(
      fc.constantFrom(
        'HTTPS://API.EXAMPLE.COM/api/messages/protected', 'https://api.example.com:443/api/messages/protected',
        'https://api.example.com/api/messages/protected?x', 'https://api.example.com/api/messages/protected#f',
        'http://api.example.com/api/messages/protected', 'https://evil.example.com/api/messages/protected',
        'https://api.example.com/api/messages/admin', '/api/messages/protected',
      ),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      anything,
    ),
  }),
  // Offsets keep 2 s away from the window's edges (-65 s, +5 s), so the second ticking over cannot flip a verdict.
  fc.record({ iat: fc.oneof(fc.oneof(fc.integer({ min: -200, max: -68 }), fc.integer({ min: -62, max: 2 }), fc.integer({ min: 8, max: 30 })).map((offset) => nowSeconds() + offset), fc.double(), anything) }),
  fc.record({ jti: fc.oneof(fc.constantFrom('', 'j'.repeat(257), 'fixed-jti'), fc.string({ maxLength: 300 }), anything) }),
  fc.record({ ath: fc.oneof(fc.constantFrom('', accessTokenHash('other')), fc.string({ maxLength: 50 }), anything) }),
  fc.record({ exp: fc.oneof(fc.oneof(fc.integer({ min: -100, max: -10 }), fc.integer({ min: 10, max: 100 })).map((offset) => nowSeconds() + offset), anything) }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 2 }),
);

const withoutUndefined = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));

const proofArbitrary = fc.record({
  header: fc.array(headerChange, { maxLength: 2 }),
  claims: fc.array(claimsChange, { maxLength: 3 }),
  signature: fc.constantFrom<Signature>('genuine', 'genuine', 'genuine', 'flipped', 'empty', 'other-input'),
});

describe('fuzzing DPoP proofs', () => {
  it('never 5xx, refusals from the error table, 2xx only for proofs an independent reading accepts', async () => {
    let accepts = 0;
    await fc.assert(
      fc.asyncProperty(proofArbitrary, async ({ header, claims, signature }) => {
        const baseHeader = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk };
        const baseClaims = { jti: randomUUID(), htm: 'GET', htu: `${API_ORIGIN}${PROTECTED}`, iat: nowSeconds(), ath: accessTokenHash(token) };
        const proof = buildProof(
          withoutUndefined(header.reduce((all, change) => ({ ...all, ...change }), baseHeader)),
          withoutUndefined(claims.reduce((all, change) => ({ ...all, ...change }), baseClaims)),
          signature,
        );
        const ok = acceptable(proof);
        const response = await h.dpop(token, proof);
        assert.ok(response.statusCode < 500, `5xx: ${String(response.statusCode)} ${response.body}`);
        if (response.statusCode < 300) {
          assert.ok(ok, `2xx for a proof the oracle refuses: ${proof}`);
          const jti: unknown = (JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>)['jti'];
          accepted.add(String(jti));
          accepts += 1;
        } else {
          assertRefused(response, response.statusCode === 400 ? 400 : 401, `status ${String(response.statusCode)}`);
          // A proof the reading accepts is only refused as a replay of a jti already accepted.
          assert.ok(!ok, `refused a valid proof: ${response.statusCode} ${proof}`);
        }
      }),
      params,
    );
    console.log(`# fuzz-dpop: ${String(accepts)} of ${String(RUNS)} proofs accepted`);
    assert.ok(RUNS < 50 || accepts > 0, 'the generator reaches valid proofs');
  });
});
