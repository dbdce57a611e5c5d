import assert from 'node:assert/strict';
import { createHmac, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_KEY_SET_OPTIONS } from '../../src/auth/key-set.js';
import { ADMIN_PERMISSION } from '../../src/config/config.js';
import { type Harness, assertRefused, assertStillServing, b64, bearer, rsaSign, signatureIsGenuine, startHarness } from './helpers.js';

/**
 * Property-based fuzzing of the token check with fast-check, through app.inject on the real app
 * over a real dev tenant. Properties, for every generated input:
 * - nothing answers 5xx, and every refusal is a bare {"message"} from the error table;
 * - a 2xx only ever answers a token whose RS256 signature is the tenant's (checked with node:crypto,
 *   not jose) and whose header and claims an independent reading finds valid;
 * - the server keeps serving afterwards, and unknown kids cost at most one JWKS fetch per 30 s.
 *
 * Seed and run count: FUZZ_SEED (a number, or "random") and FUZZ_RUNS. The defaults keep CI quick
 * and reproducible; `npm run fuzz` runs long with a random seed. The seed is printed either way.
 */
const SEED = process.env['FUZZ_SEED'] === 'random' ? randomInt(2 ** 31) : Number(process.env['FUZZ_SEED'] ?? 20_251_127);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
console.log(`# fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} node scripts/run-tests.mjs security/fuzz)`);
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

const PROTECTED = '/api/messages/protected';
const ADMIN = '/api/messages/admin';
const ACCEPTED_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

let h: Harness;
let startedAt: number;
let fetchesBefore: number;
before(async () => {
  h = await startHarness();
  await h.keySet.warm();
  startedAt = Date.now();
  fetchesBefore = h.keySet.fetchCount;
});
after(() => h.close());

function parseSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An independent reading of what the API must demand of any token it lets through. */
function headerAndClaimsAcceptable(token: string, url: string): boolean {
  const [headerSegment = '', payloadSegment = ''] = token.split('.');
  const header = parseSegment(headerSegment);
  const claims = parseSegment(payloadSegment);
  if (!isRecord(header) || !isRecord(claims)) return false;
  if (header['alg'] !== 'RS256' || header['kid'] !== h.kid) return false;
  if (typeof header['typ'] !== 'string' || !ACCEPTED_TYPES.has(header['typ'].toLowerCase())) return false;
  if (['jwk', 'jku', 'x5u', 'x5c', 'crit'].some((name) => name in header)) return false;
  const now = Date.now() / 1000;
  const { iss, aud, exp, nbf } = claims;
  if (iss !== h.tenant.tenant.issuer) return false;
  if (aud !== h.config.auth.audience && !(Array.isArray(aud) && aud.includes(h.config.auth.audience))) return false;
  if (typeof exp !== 'number' || exp < now - 10) return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + 10)) return false;
  if (url === ADMIN) {
    const granted = claims['permissions'];
    if (!Array.isArray(granted) || !granted.every((p) => typeof p === 'string') || !granted.includes(ADMIN_PERMISSION)) return false;
  }
  return true;
}

/** The properties every answer must have; `token` is what the API saw after "Bearer ", if any. */
async function check(response: LightMyRequestResponse, url: string, token: string | undefined): Promise<void> {
  assert.ok(response.statusCode < 500, `5xx: ${response.statusCode} ${response.body}`);
  if (response.statusCode < 300) {
    assert.ok(token !== undefined, `2xx without a token: ${response.statusCode}`);
    assert.ok(signatureIsGenuine(token, h.publicKey), `2xx for a token without the tenant's signature: ${token}`);
    assert.ok(headerAndClaimsAcceptable(token, url), `2xx for a token with unacceptable header or claims: ${token}`);
  } else {
    const expected = [400, 401, 403].includes(response.statusCode) ? response.statusCode : -1;
    assertRefused(response, expected, `status ${response.statusCode}`);
  }
  return Promise.resolve();
}

// --- Arbitraries -------------------------------------------------------------------------------

/** Characters a client can put in a header value (no CR/LF/NUL; obs-text allowed). */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.constantFrom('\t', '\u00a0', '\u00ff') },
);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64urlChar = fc.constantFrom(...B64URL.split(''), '+', '/', '=', '~', '.');
const b64ish = fc.string({ unit: b64urlChar, maxLength: 120 });

const authorizationHeader = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 200 }),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer:', 'Token', ''), fc.constantFrom(' ', '  ', '\t', ''), b64ish)
    .map(([scheme, space, token]) => `${scheme}${space}${token}`),
  fc.tuple(b64ish, b64ish, b64ish).map((parts) => `Bearer ${parts.join('.')}`),
);

const now = () => Math.floor(Date.now() / 1000);
const timestamp = fc.oneof(
  fc.constant('future').map(() => now() + 600),
  fc.constant('past').map(() => now() - 600),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.constant(null),
);

/** Header objects near the real one: the valid header with up to two fields made wrong. */
const headerPerturbation = fc.oneof(
  fc.record({ alg: fc.oneof(fc.constantFrom('none', 'None', 'HS256', 'RS384', 'RS512', 'PS256', 'ES256', 'EdDSA', 'rs256', ''), fc.jsonValue()) }),
  fc.record({ typ: fc.oneof(fc.constantFrom('at+jwt', 'application/at+jwt', 'jwt', 'JOSE', 'id_token+jwt', undefined), fc.jsonValue()) }),
  fc.record({ kid: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue(), fc.constant(undefined)) }),
  fc.constantFrom<Record<string, unknown>>(
    { jku: 'http://127.0.0.1:9/jwks.json' },
    { x5u: 'http://127.0.0.1:9/cert.pem' },
    { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } },
    { x5c: ['MIIB'] },
    { crit: ['b64'], b64: false },
    { crit: ['exp'] },
    { crit: [] },
    { b64: true },
  ),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
);
const headerObject = fc
  .array(headerPerturbation, { maxLength: 2 })
  .map((changes) => changes.reduce<Record<string, unknown>>((header, change) => ({ ...header, ...change }), { alg: 'RS256', typ: 'JWT', kid: h.kid }));

/** Claims near valid ones: the valid claims with up to two made wrong. */
const claimsPerturbation = fc.oneof(
  fc.record({ iss: fc.oneof(fc.constantFrom('https://evil.example.com/', undefined), fc.jsonValue()) }),
  fc.record({ aud: fc.oneof(fc.constantFrom(undefined, [], ['x']), fc.constant('OURS-IN-ARRAY'), fc.jsonValue()) }),
  fc.record({ exp: fc.oneof(timestamp, fc.constant(undefined)) }),
  fc.record({ nbf: timestamp }),
  fc.record({ iat: timestamp }),
  fc.record({ permissions: fc.oneof(fc.constant([ADMIN_PERMISSION]), fc.constant(ADMIN_PERMISSION), fc.constant([[ADMIN_PERMISSION]]), fc.jsonValue()) }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
);
const claimsObject = fc.array(claimsPerturbation, { maxLength: 2 }).map((changes): Record<string, unknown> => {
  const claims = changes.reduce<Record<string, unknown>>((all, change) => ({ ...all, ...change }), h.claims());
  if (claims['aud'] === 'OURS-IN-ARRAY') claims['aud'] = ['x', h.config.auth.audience];
  return claims;
});

const segment = (json: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: json.map((value) => b64(value)) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => b64(value)) },
    { weight: 1, arbitrary: b64ish },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => b64(bytes)) },
  );

type SignatureKind = 'genuine' | 'empty' | 'random' | 'borrowed' | 'hmac-pem' | 'none';
const signatureKind = fc.constantFrom<SignatureKind>('genuine', 'genuine', 'genuine', 'genuine', 'empty', 'random', 'borrowed', 'hmac-pem', 'none');

function signatureFor(kind: SignatureKind, input: string, random: Uint8Array): string | undefined {
  switch (kind) {
    case 'genuine':
      return rsaSign(input, h.privateKey);
    case 'empty':
      return '';
    case 'random':
      return b64(random);
    case 'borrowed':
      return h.adminToken.split('.')[2] ?? '';
    case 'hmac-pem':
      return createHmac('sha256', h.publicKey.export({ type: 'spki', format: 'pem' })).update(input).digest('base64url');
    case 'none':
      return undefined; // two parts only
  }
}

type Mutation = { readonly at: number; readonly op: 'flip' | 'replace' | 'delete' | 'insert'; readonly bit: number; readonly char: string };
const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Mutation['op']>('flip', 'flip', 'replace', 'delete', 'insert'),
  bit: fc.integer({ min: 0, max: 6 }),
  char: b64urlChar,
});

function mutate(token: string, mutations: readonly Mutation[]): string {
  let result = token;
  for (const { at, op, bit, char } of mutations) {
    const i = at % Math.max(1, result.length);
    const before = result.slice(0, i);
    const after = result.slice(i + 1);
    const current = result.charAt(i);
    if (op === 'flip') result = before + String.fromCharCode(current.charCodeAt(0) ^ (1 << bit)) + after;
    else if (op === 'replace') result = before + char + after;
    else if (op === 'delete') result = before + after;
    else result = before + char + current + after;
  }
  return result;
}

// --- Properties --------------------------------------------------------------------------------

describe(`fuzzing the token check (seed ${SEED}, ${RUNS} runs each)`, () => {
  it('any Authorization header: never 2xx, never 5xx, always the error table', async () => {
    await fc.assert(
      fc.asyncProperty(authorizationHeader, fc.constantFrom(PROTECTED, ADMIN), async (authorization, url) => {
        const response = await h.app.inject({ method: 'GET', url, headers: { authorization } });
        assert.ok(response.statusCode >= 400, `2xx for ${JSON.stringify(authorization)}`);
        await check(response, url, undefined);
      }),
      params,
    );
    await assertStillServing(h);
  });

  it('tokens built from random or near-valid header, payload and signature parts', async () => {
    await fc.assert(
      fc.asyncProperty(
        segment(headerObject),
        segment(claimsObject),
        signatureKind,
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(PROTECTED, ADMIN),
        async (headerSegment, payloadSegment, kind, random, url) => {
          const input = `${headerSegment}.${payloadSegment}`;
          const signature = signatureFor(kind, input, random);
          const token = signature === undefined ? input : `${input}.${signature}`;
          const response = await h.app.inject({ method: 'GET', url, headers: bearer(token) });
          await check(response, url, token);
        },
      ),
      params,
    );
    await assertStillServing(h);
  });

  it('bit flips and edits of a valid admin token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const token = mutate(h.adminToken, mutations);
        const response = await h.app.inject({ method: 'GET', url: ADMIN, headers: bearer(token) });
        await check(response, ADMIN, token);
      }),
      params,
    );
    await assertStillServing(h);
  });

  it('the fuzzing cost the tenant no more JWKS fetches than the unknown-kid budget allows', () => {
    const { unknownKidFetchBurst, unknownKidFetchRefillMs } = DEFAULT_KEY_SET_OPTIONS;
    const allowed = unknownKidFetchBurst + Math.floor((Date.now() - startedAt) / unknownKidFetchRefillMs);
    const fetches = h.keySet.fetchCount - fetchesBefore;
    assert.ok(fetches <= allowed, `${fetches} fetches, ${allowed} allowed`);
  });
});
