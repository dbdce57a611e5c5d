import assert from 'node:assert/strict';
import { type KeyObject, createHash, generateKeyPairSync, randomInt, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type CryptoKey, EmbeddedJWK, calculateJwkThumbprint, decodeJwt, importJWK, jwtVerify } from 'jose';
import { type BoundKey, bindKey, checkClaims, claimRules, decodeClaims, decodeUnverifiedClaims, parseCompactJws, verifySignature } from '../../src/auth/compact-jws.js';
import { DPOP_ALGORITHMS, verifyDpopProof } from '../../src/auth/dpop-proof.js';
import { ProofKeyCache } from '../../src/auth/dpop-proof-keys.js';
import { InvalidDpopProofError } from '../../src/errors/http-errors.js';

/**
 * Differential test of the node:crypto check (src/auth/compact-jws.ts) against jose itself, driven
 * by fast-check: generated access tokens and DPoP proofs, valid ones and mutations of every header
 * member, every claim, the JSON text, the base64url of each segment and the signature. For every
 * input both must accept (with the same claims) or both refuse.
 * - Access tokens: parseCompactJws, verifySignature and checkClaims with the verifier's options,
 *   against jose's jwtVerify with the same options and the same key per alg; and the unverified
 *   decoding of the claims against jose's decodeJwt.
 * - DPoP proofs: verifyDpopProof (with a key cache shared by every run, so repeated headers take the
 *   cached path, and without one), against jose's jwtVerify with EmbeddedJWK plus the rules jose
 *   leaves to the caller (typ exactly, no private members, jti, htm, htu, iat window, ath).
 *
 * FUZZ_SEED and FUZZ_RUNS as in fuzz.test.ts (`npm run fuzz` runs this file too, long and random).
 */
const SEED = process.env['FUZZ_SEED'] === 'random' ? randomInt(2 ** 31) : Number(process.env['FUZZ_SEED'] ?? 20_261_207);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
console.log(`# differential: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} node scripts/run-tests.mjs security/fuzz-differential)`);
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true } as const;

const NOW = 1_765_000_000_700; // not a whole second: jose floors it
const NOW_S = Math.floor(NOW / 1000);
const ISSUER = 'https://tenant.example.com/';
const AUDIENCE = 'https://hello-world.example.com';
const ORIGIN = 'http://localhost:6060';
const PATH = '/api/messages/protected';
const ACCESS_TOKEN = 'access.token.value';
const ATH = createHash('sha256').update(ACCESS_TOKEN).digest('base64url');

type KeyName = 'rsa' | 'rsaOther' | 'rsa1024' | 'ec256' | 'ec384' | 'ec521' | 'ed25519';
const PRIVATE: Record<KeyName, KeyObject> = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  rsaOther: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
  ec256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  ec384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  ec521: generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  ed25519: generateKeyPairSync('ed25519').privateKey,
};
const KEY_NAMES = Object.keys(PRIVATE) as KeyName[];
const NATURAL_ALG: Record<KeyName, string> = { rsa: 'RS256', rsaOther: 'PS256', rsa1024: 'RS256', ec256: 'ES256', ec384: 'ES384', ec521: 'ES512', ed25519: 'EdDSA' };
const publicJwk = (name: KeyName): Record<string, unknown> => ({ ...PRIVATE[name].export({ format: 'jwk' }), d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined });

/** A JWS signature with node:crypto; random bytes when the key cannot make one for `alg`. */
function signature(alg: string, key: KeyName, input: string, der: boolean): Buffer {
  const data = Buffer.from(input, 'latin1');
  const bits = alg.slice(2);
  try {
    if (alg.startsWith('RS')) return sign(`sha${bits}`, data, PRIVATE[key]);
    if (alg.startsWith('PS')) return sign(`sha${bits}`, data, { key: PRIVATE[key], padding: 6, saltLength: Number(bits) / 8 });
    if (alg.startsWith('ES')) return sign(`sha${bits}`, data, { key: PRIVATE[key], dsaEncoding: der ? 'der' : 'ieee-p1363' });
    if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, data, PRIVATE[key]);
  } catch {
    // fall through: a key of another type
  }
  return createHash('sha512').update(input).digest();
}

/**
 * A valid value for every field, and the mutations each may take. A generated input changes at
 * most three fields of the valid one, so every mutation is met many times alone on an otherwise
 * valid token (where a wrong answer shows), not only beside other faults that refuse anyway.
 */
function mutationsOf<T extends Record<string, unknown>>(valid: T, others: { readonly [K in keyof T]: readonly T[K][] }): fc.Arbitrary<T> {
  const keys = Object.keys(valid) as (keyof T & string)[];
  const drawn = Object.fromEntries(keys.map((key) => [key, fc.constantFrom(...others[key])])) as { [K in keyof T]: fc.Arbitrary<T[K]> };
  return fc.record({ values: fc.record(drawn), mask: fc.subarray(keys, { maxLength: 3 }) })
    .map(({ values, mask }) => ({ ...valid, ...Object.fromEntries(mask.map((key) => [key, values[key]])) }));
}

/** How a JSON text is written: plain, or with a twist jose must judge (BOM, duplicates, not an object, bad UTF-8). */
const JSON_FORMS = ['plain', 'bom', 'duplicate-first', 'duplicate-last', 'array', 'whitespace', 'bad-utf8', 'number-string'] as const;
function jsonBytes(value: Record<string, unknown>, form: (typeof JSON_FORMS)[number]): Buffer {
  const text = JSON.stringify(value);
  const inner = text.slice(1, -1);
  switch (form) {
    case 'plain': return Buffer.from(text);
    case 'bom': return Buffer.from(`\uFEFF${text}`);
    case 'duplicate-first': return Buffer.from(`{"exp":"soon","typ":"x",${inner}}`.replace(',}', '}'));
    case 'duplicate-last': return Buffer.from(`{${inner}${inner === '' ? '' : ','}"alg":"none","exp":"soon"}`);
    case 'array': return Buffer.from(`[${text}]`);
    case 'whitespace': return Buffer.from(` \n${text}\t`);
    case 'bad-utf8': return Buffer.concat([Buffer.from(`{${inner}${inner === '' ? '' : ','}"x":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    case 'number-string': return Buffer.from(text.replace(/("(?:exp|iat|nbf)":)(\d+)/g, '$1"$2"'));
  }
}

/** How a segment's base64url is written: canonical, or a spelling jose may refuse or accept. */
const SEGMENT_FORMS = ['plain', 'padded', 'standard-alphabet', 'non-canonical-bits', 'space', 'extra-char', 'non-ascii', 'empty'] as const;
function segment(bytes: Buffer, form: (typeof SEGMENT_FORMS)[number]): string {
  const plain = bytes.toString('base64url');
  switch (form) {
    case 'plain': return plain;
    case 'padded': return plain + '='.repeat((4 - (plain.length % 4)) % 4);
    case 'standard-alphabet': return bytes.toString('base64').replace(/=+$/, '');
    case 'non-canonical-bits': {
      if (plain.length % 4 === 0) return plain;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(plain.at(-1) ?? 'A');
      return plain.slice(0, -1) + (alphabet[last | 1] ?? 'A');
    }
    case 'space': return `${plain.slice(0, 4)} ${plain.slice(4)}`;
    case 'extra-char': return `${plain}A`;
    case 'non-ascii': return `${plain}é`;
    case 'empty': return '';
  }
}

const SIGNATURE_FORMS = ['plain', 'flipped', 'truncated', 'der', 'empty', 'padded', 'non-canonical-bits'] as const;

interface Jws {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly headerForm: { json: JsonForm; segment: SegmentForm };
  readonly claimsForm: { json: JsonForm; segment: SegmentForm };
  readonly signer: { alg: string; key: KeyName; form: SignatureForm };
  readonly dots: 'three' | 'four' | 'two';
}

function compact(jws: Jws): string {
  const input = `${segment(jsonBytes(jws.header, jws.headerForm.json), jws.headerForm.segment)}.${segment(jsonBytes(jws.claims, jws.claimsForm.json), jws.claimsForm.segment)}`;
  const raw = signature(jws.signer.alg, jws.signer.key, input, jws.signer.form === 'der');
  let sig: string;
  switch (jws.signer.form) {
    case 'flipped': { const at = raw.length >> 1; raw.writeUInt8((raw.readUInt8(at) ^ 1), at); sig = raw.toString('base64url'); break; }
    case 'truncated': sig = raw.subarray(1).toString('base64url'); break;
    case 'empty': sig = ''; break;
    case 'plain': case 'der': sig = raw.toString('base64url'); break;
    default: sig = segment(raw, jws.signer.form);
  }
  const token = `${input}.${sig}`;
  return jws.dots === 'three' ? token : jws.dots === 'four' ? `${token}.` : input;
}

type JsonForm = (typeof JSON_FORMS)[number];
type SegmentForm = (typeof SEGMENT_FORMS)[number];
type SignatureForm = (typeof SIGNATURE_FORMS)[number];
type Dots = 'three' | 'four' | 'two';
// crit and b64 together: b64 means something only when crit names it.
const CRIT_B64: readonly Record<string, unknown>[] = [
  {}, { crit: [] }, { crit: ['b64'], b64: true }, { crit: ['b64'], b64: false }, { crit: ['b64'] }, { crit: ['b64'], b64: 'true' },
  { crit: ['b64', 'b64'], b64: true }, { crit: ['exp'], exp: 1 }, { crit: 'b64', b64: true }, { crit: [1] }, { crit: [''] }, { b64: false }, { b64: true },
];
const FORMS = {
  headerJson: ['plain', ...JSON_FORMS] as JsonForm[],
  headerSegment: ['plain', ...SEGMENT_FORMS] as SegmentForm[],
  claimsJson: ['plain', ...JSON_FORMS] as JsonForm[],
  claimsSegment: ['plain', ...SEGMENT_FORMS] as SegmentForm[],
  signatureForm: ['plain', ...SIGNATURE_FORMS] as SignatureForm[],
  dots: ['three', 'four', 'two'] as Dots[],
};
const VALID_FORMS = { headerJson: 'plain' as JsonForm, headerSegment: 'plain' as SegmentForm, claimsJson: 'plain' as JsonForm, claimsSegment: 'plain' as SegmentForm, signatureForm: 'plain' as SignatureForm, dots: 'three' as Dots };

const accessToken: fc.Arbitrary<Jws> = mutationsOf<Record<string, unknown>>(
  { alg: 'RS256', typ: 'JWT', kid: 'k1', critB64: {}, iss: ISSUER, aud: AUDIENCE, exp: NOW_S + 600, nbf: undefined, iat: NOW_S, signAlg: 'same', signKey: 'rsa', ...VALID_FORMS },
  {
    alg: ['PS256', 'ES256', 'HS256', 'none', '', 'rs256', 7],
    typ: ['at+jwt', 'application/at+jwt', 'AT+JWT', undefined, 'dpop+jwt', 5],
    kid: [undefined, 'k2'],
    critB64: CRIT_B64,
    iss: [ISSUER.slice(0, -1), ISSUER.toUpperCase(), [ISSUER], 5, undefined],
    aud: [[AUDIENCE], ['other', AUDIENCE], ['other'], 'other', 5, undefined, [5, AUDIENCE]],
    exp: [NOW_S - 4, NOW_S - 4.5, NOW_S - 5, NOW_S - 6, NOW_S - 5.5, NOW_S + 0.5, `${NOW_S + 600}`, null, undefined, 1e300],
    nbf: [NOW_S + 4, NOW_S + 5, NOW_S + 6, NOW_S + 5.5, 'x', null],
    iat: [undefined, `${NOW_S}`, null, NOW_S + 1000],
    signAlg: ['RS256', 'PS256', 'ES256'],
    signKey: ['rsaOther', 'ec256'],
    ...FORMS,
  },
).map((f) => ({
  header: { alg: f['alg'], typ: f['typ'], kid: f['kid'], ...(f['critB64'] as object) },
  claims: { iss: f['iss'], aud: f['aud'], exp: f['exp'], nbf: f['nbf'], iat: f['iat'], sub: 'client@clients' },
  headerForm: { json: f['headerJson'] as JsonForm, segment: f['headerSegment'] as SegmentForm },
  claimsForm: { json: f['claimsJson'] as JsonForm, segment: f['claimsSegment'] as SegmentForm },
  signer: { alg: f['signAlg'] === 'same' ? String(f['alg']) : String(f['signAlg']), key: f['signKey'] as KeyName, form: f['signatureForm'] as SignatureForm },
  dots: f['dots'] as Dots,
}));

const ACCESS_ALGORITHMS = ['RS256', 'PS256'];
const boundKeys = new Map<string, BoundKey>();
const joseKeys = new Map<string, CryptoKey>();
for (const alg of ACCESS_ALGORITHMS) {
  const key = await importJWK(publicJwk('rsa'), alg);
  if (key instanceof Uint8Array) throw new Error('not an RSA key');
  joseKeys.set(alg, key);
  boundKeys.set(alg, bindKey(alg, key));
}
const accessRules = { issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp'], clockTolerance: 5 };

type Outcome = { ok: true; claims: unknown } | { ok: false; error: string };

async function joseOutcome(run: () => Promise<{ payload: unknown }>): Promise<Outcome> {
  try {
    return { ok: true, claims: (await run()).payload };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

function newAccessOutcome(token: string): Outcome {
  try {
    const jws = parseCompactJws(token, new Set(ACCESS_ALGORITHMS));
    const key = boundKeys.get(jws.alg);
    if (key === undefined) throw new Error('no key');
    verifySignature(jws, key);
    const claims = decodeClaims(jws);
    checkClaims(jws.header, claims, claimRules(accessRules), NOW);
    return { ok: true, claims };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

function agree(token: string, ours: Outcome, jose: Outcome): void {
  assert.equal(ours.ok, jose.ok, `disagree on ${token}\n ours: ${ours.ok ? 'accepted' : ours.error}\n jose: ${jose.ok ? 'accepted' : jose.error}`);
  if (ours.ok && jose.ok) assert.deepEqual(ours.claims, jose.claims);
}

describe('differential: node:crypto check and jose agree on generated access tokens', () => {
  it('accept and refuse the same tokens, with the same claims', async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(accessToken, async (jws) => {
      const token = compact(jws);
      const jose = await joseOutcome(() => jwtVerify(token, (header) => {
        const key = joseKeys.get(String(header.alg));
        if (key === undefined) throw new Error('no key');
        return key;
      }, { ...accessRules, algorithms: ACCESS_ALGORITHMS, currentDate: new Date(NOW) }));
      const ours = newAccessOutcome(token);
      agree(token, ours, jose);
      if (ours.ok) accepted += 1;
    }), params);
    // The generator must reach both answers, or the comparison proves little.
    assert.ok(accepted >= RUNS / 20, `only ${accepted} of ${RUNS} tokens were valid`);
  });

  it('decode unverified claims as jose decodeJwt does', () => {
    fc.assert(fc.property(accessToken, (jws) => {
      const token = compact(jws);
      let jose: Outcome;
      try {
        jose = { ok: true, claims: decodeJwt(token) };
      } catch (error) {
        jose = { ok: false, error: String(error) };
      }
      let ours: Outcome;
      try {
        ours = { ok: true, claims: decodeUnverifiedClaims(token) };
      } catch (error) {
        ours = { ok: false, error: String(error) };
      }
      agree(token, ours, jose);
    }), params);
  });
});

const JWK_FORMS = ['plain', 'other-curve', 'private-d', 'use-enc', 'use-sig', 'key-ops-verify', 'key-ops-sign', 'key-ops-string', 'alg-natural', 'alg-other', 'ext-false', 'ext-string', 'kty-other', 'x-short', 'kid'] as const;
function proofJwk(name: KeyName, jwkForm: (typeof JWK_FORMS)[number]): Record<string, unknown> {
  const jwk = publicJwk(name);
  switch (jwkForm) {
    case 'plain': return jwk;
    case 'other-curve': return { ...jwk, crv: jwk['crv'] === 'P-256' ? 'P-384' : 'P-256' };
    case 'private-d': return { ...PRIVATE[name].export({ format: 'jwk' }) };
    case 'use-enc': return { ...jwk, use: 'enc' };
    case 'use-sig': return { ...jwk, use: 'sig' };
    case 'key-ops-verify': return { ...jwk, key_ops: ['verify'] };
    case 'key-ops-sign': return { ...jwk, key_ops: ['sign'] };
    case 'key-ops-string': return { ...jwk, key_ops: 'verify' };
    case 'alg-natural': return { ...jwk, alg: NATURAL_ALG[name] };
    case 'alg-other': return { ...jwk, alg: 'RS384' };
    case 'ext-false': return { ...jwk, ext: false };
    case 'ext-string': return { ...jwk, ext: 'yes' };
    case 'kty-other': return { ...jwk, kty: jwk['kty'] === 'EC' ? 'OKP' : 'EC' };
    case 'x-short': return typeof jwk['x'] === 'string' ? { ...jwk, x: jwk['x'].slice(2) } : { ...jwk, n: 'AQAB' };
    case 'kid': return { ...jwk, kid: 'client-key' };
  }
}

const proof: fc.Arbitrary<Jws> = fc.tuple(
  fc.constantFrom<KeyName>('ec256', 'ec256', 'ec256', ...KEY_NAMES),
  mutationsOf<Record<string, unknown>>(
    { jwkForm: 'plain', alg: 'natural', typ: 'dpop+jwt', critB64: {}, jti: 'a7c1b0de-0001', htm: 'GET', htu: `${ORIGIN}${PATH}`, iat: NOW_S, ath: ATH, exp: undefined, nbf: undefined, signWith: 'same', ...VALID_FORMS },
    {
      jwkForm: JWK_FORMS.slice(1),
      alg: [...DPOP_ALGORITHMS, 'HS256', 'none', 5],
      typ: ['DPoP+JWT', 'application/dpop+jwt', 'jwt', undefined],
      critB64: CRIT_B64,
      jti: ['', 5, undefined, 'x'.repeat(257)],
      htm: ['get', 'POST'],
      htu: [`${ORIGIN}/api/messages/admin`, 'https://evil.example/api/messages/protected', 5],
      iat: [NOW_S - 70, NOW_S + 10, `${NOW_S}`, undefined, NOW_S - 64, NOW_S - 66, NOW_S + 5.5],
      ath: ['wrong', undefined],
      exp: [NOW_S - 10, 'x', NOW_S + 60, NOW_S - 5],
      nbf: [NOW_S + 10, null, NOW_S + 5],
      signWith: ['other'],
      ...FORMS,
    },
  ),
).map(([key, f]) => {
  const headerAlg = f['alg'] === 'natural' ? NATURAL_ALG[key] : f['alg'];
  const signingKey: KeyName = f['signWith'] === 'same' ? key : key === 'ec256' ? 'ec384' : 'ec256';
  return {
    header: { typ: f['typ'], alg: headerAlg, jwk: proofJwk(key, f['jwkForm'] as (typeof JWK_FORMS)[number]), ...(f['critB64'] as object) },
    claims: { jti: f['jti'], htm: f['htm'], htu: f['htu'], iat: f['iat'], ath: f['ath'], exp: f['exp'], nbf: f['nbf'] },
    headerForm: { json: f['headerJson'] as JsonForm, segment: f['headerSegment'] as SegmentForm },
    claimsForm: { json: f['claimsJson'] as JsonForm, segment: f['claimsSegment'] as SegmentForm },
    signer: { alg: typeof headerAlg === 'string' ? headerAlg : NATURAL_ALG[key], key: signingKey, form: f['signatureForm'] as SignatureForm },
    dots: f['dots'] as Dots,
  };
});

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** jose's jwtVerify with EmbeddedJWK, plus the rules RFC 9449 and this API add; the thumbprint when accepted. */
async function joseProofOutcome(token: string): Promise<Outcome> {
  const jose = await joseOutcome(() => jwtVerify(token, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS], clockTolerance: 5, currentDate: new Date(NOW) }));
  if (!jose.ok) return jose;
  const [encodedHeader = ''] = token.split('.');
  const header = JSON.parse(new TextDecoder().decode(Buffer.from(encodedHeader, 'base64url'))) as Record<string, unknown>;
  const jwk = header['jwk'] as Record<string, unknown>;
  const claims = jose.claims as Record<string, unknown>;
  const { jti, htm, htu, iat, ath } = claims;
  const rules = [
    header['typ'] === 'dpop+jwt',
    !PRIVATE_MEMBERS.some((member) => member in jwk),
    typeof jti === 'string' && jti !== '' && jti.length <= 256,
    htm === 'GET',
    htu === `${ORIGIN}${PATH}`,
    typeof iat === 'number' && iat <= NOW_S + 5 && iat >= NOW_S - 65,
    ath === ATH,
  ];
  if (rules.includes(false)) return { ok: false, error: `rule ${rules.indexOf(false)} of the caller's` };
  return { ok: true, claims: await calculateJwkThumbprint(jwk, 'sha256') };
}

async function newProofOutcome(token: string, keys: ProofKeyCache | undefined): Promise<Outcome> {
  try {
    const verified = await verifyDpopProof(token, { method: 'GET', origins: new Set([ORIGIN]), path: PATH, accessToken: ACCESS_TOKEN, now: NOW, ...(keys !== undefined && { keys }) });
    return { ok: true, claims: verified.jkt };
  } catch (error) {
    // Any other error would be a 500: a failure here, not a refusal.
    if (!(error instanceof InvalidDpopProofError)) throw error;
    return { ok: false, error: `${error.check}: ${error.message}` };
  }
}

describe('differential: node:crypto check and jose agree on generated DPoP proofs', () => {
  it('accept and refuse the same proofs, with the same thumbprint, cached keys or not', async () => {
    const keys = new ProofKeyCache();
    let accepted = 0;
    await fc.assert(fc.asyncProperty(proof, async (jws) => {
      const token = compact(jws);
      const jose = await joseProofOutcome(token);
      agree(token, await newProofOutcome(token, keys), jose);
      agree(token, await newProofOutcome(token, undefined), jose);
      if (jose.ok) accepted += 1;
    }), params);
    assert.ok(accepted >= RUNS / 20, `only ${accepted} of ${RUNS} proofs were valid`);
  });
});
