import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { IssuerRegistry } from '../../src/auth/issuers.js';
import { DEFAULT_KEY_SET_OPTIONS } from '../../src/auth/key-set.js';
import { DEFAULT_AUDIENCE } from '../../src/config/config.js';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { apiConfigFor } from '../helpers/tenant.js';
import {
  type Harness,
  assertRefused,
  assertStillServing,
  b64,
  bearer,
  rsaSign,
  signJson,
  signSegments,
  signatureIsGenuine,
  startHarness,
} from './helpers.js';

/**
 * Attacks on the token check, as data (RFC 8725, jwt_tool's playbook). Every token goes through
 * the real request path: Authorization header -> bearer parse -> jose + our header rules -> the
 * tenant's JWKS fetched over loopback HTTP -> claims -> permissions. Each vector must get the
 * status of the error table with a bare {"message"} body, and the server must keep serving.
 */
interface Vector {
  readonly name: string;
  readonly makeToken: (h: Harness) => string;
  readonly expectedStatus: 200 | 400 | 401 | 403;
  /** Default /api/messages/protected. */
  readonly url?: string;
}

const PROTECTED = '/api/messages/protected';
const ADMIN = '/api/messages/admin';
const ADMIN_PERMISSION = 'read:admin-messages';

let h: Harness;
/** Where jku/x5u point: a loopback server that counts requests and would serve the attacker's keys. */
let lure: JwksServer;
const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerEd = generateKeyPairSync('ed25519');

before(async () => {
  h = await startHarness();
  const attackerJwk = { ...attackerRsa.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256', use: 'sig' };
  lure = await startJwksServer({ kind: 'json', body: { keys: [attackerJwk] } });
});
after(async () => {
  await lure.close();
  await h.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const split = (token: string): [string, string, string] => {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
};
const decode = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

/** A token that is valid in every respect but the ones given (signed by the tenant's real key). */
const genuine = (x: Harness, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJson(x.header(header), x.claims(claims), x.privateKey);

/** header.payload signed with an attacker's RSA key. */
const attackerSigned = (x: Harness, header: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
  signJson(x.header(header), x.claims(claims), attackerRsa.privateKey);

/** header.payload with an HMAC-SHA256 signature keyed by `secret`: the classic RS/HS key confusion. */
function hmacSigned(x: Harness, secret: string | Buffer, alg = 'HS256'): string {
  const input = `${b64(x.header({ alg }))}.${b64(x.claims({ permissions: [ADMIN_PERMISSION] }))}`;
  const hash = `sha${alg.slice(2)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

const spkiPem = (x: Harness) => x.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const pkcs1Pem = (x: Harness) => x.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();

function withSignatureOf(x: Harness, header: unknown, payload: unknown, signer: (input: string) => Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input).toString('base64url')}`;
}

const ALG_NONE: Vector[] = [
  ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): Vector[] => [
    { name: `alg ${alg}, empty signature`, makeToken: (x) => `${b64(x.header({ alg }))}.${b64(x.claims())}.`, expectedStatus: 401 },
    { name: `alg ${alg}, no signature part`, makeToken: (x) => `${b64(x.header({ alg }))}.${b64(x.claims())}`, expectedStatus: 401 },
    {
      name: `alg ${alg} with a genuine RS256 signature kept`,
      makeToken: (x) => {
        const input = `${b64(x.header({ alg }))}.${b64(x.claims())}`;
        return `${input}.${rsaSign(input, x.privateKey)}`;
      },
      expectedStatus: 401,
    },
  ]),
  { name: 'alg none without kid or typ', makeToken: (x) => `${b64({ alg: 'none' })}.${b64(x.claims())}.`, expectedStatus: 401 },
  { name: 'alg missing', makeToken: (x) => signJson({ typ: 'JWT', kid: x.kid }, x.claims(), x.privateKey), expectedStatus: 401 },
  { name: 'alg empty', makeToken: (x) => genuine(x, {}, { alg: '' }), expectedStatus: 401 },
  { name: 'alg null', makeToken: (x) => genuine(x, {}, { alg: null }), expectedStatus: 401 },
  { name: 'alg as an array ["RS256"]', makeToken: (x) => genuine(x, {}, { alg: ['RS256'] }), expectedStatus: 401 },
  { name: 'alg rs256 in lower case (genuine signature)', makeToken: (x) => genuine(x, {}, { alg: 'rs256' }), expectedStatus: 401 },
];

const KEY_CONFUSION: Vector[] = [
  { name: 'HS256 keyed with the public key as SPKI PEM', makeToken: (x) => hmacSigned(x, spkiPem(x)), expectedStatus: 401 },
  { name: 'HS256 keyed with the SPKI PEM without its final newline', makeToken: (x) => hmacSigned(x, spkiPem(x).trimEnd()), expectedStatus: 401 },
  { name: 'HS256 keyed with the public key as PKCS#1 PEM', makeToken: (x) => hmacSigned(x, pkcs1Pem(x)), expectedStatus: 401 },
  { name: 'HS256 keyed with the SPKI DER bytes', makeToken: (x) => hmacSigned(x, x.publicKey.export({ type: 'spki', format: 'der' })), expectedStatus: 401 },
  { name: 'HS256 keyed with the JWK as published (JSON)', makeToken: (x) => hmacSigned(x, JSON.stringify(x.publicJwk)), expectedStatus: 401 },
  { name: 'HS256 keyed with the modulus n', makeToken: (x) => hmacSigned(x, Buffer.from(x.publicJwk.n ?? '', 'base64url')), expectedStatus: 401 },
  { name: 'HS384 keyed with the SPKI PEM', makeToken: (x) => hmacSigned(x, spkiPem(x), 'HS384'), expectedStatus: 401 },
  { name: 'HS512 keyed with the SPKI PEM', makeToken: (x) => hmacSigned(x, spkiPem(x), 'HS512'), expectedStatus: 401 },
];

const EMBEDDED_KEYS: Vector[] = [
  {
    name: 'jwk header with the attacker key, signed by the attacker',
    makeToken: (x) => attackerSigned(x, { kid: 'attacker', jwk: attackerRsa.publicKey.export({ format: 'jwk' }) }),
    expectedStatus: 401,
  },
  {
    name: 'jwk header with the tenant public key, genuine signature (policy: never take a key from the token)',
    makeToken: (x) => genuine(x, {}, { jwk: x.publicJwk }),
    expectedStatus: 401,
  },
  { name: 'jku to a loopback key server, signed by the attacker', makeToken: (x) => attackerSigned(x, { kid: 'attacker', jku: lure.jwksUri }), expectedStatus: 401 },
  { name: 'jku to a loopback key server, genuine signature', makeToken: (x) => genuine(x, {}, { jku: lure.jwksUri }), expectedStatus: 401 },
  { name: 'x5u to a loopback server, signed by the attacker', makeToken: (x) => attackerSigned(x, { kid: 'attacker', x5u: `${lure.url}/cert.pem` }), expectedStatus: 401 },
  { name: 'x5u to a loopback server, genuine signature', makeToken: (x) => genuine(x, {}, { x5u: `${lure.url}/cert.pem` }), expectedStatus: 401 },
  {
    name: 'x5c with a (junk) certificate chain, signed by the attacker',
    makeToken: (x) => attackerSigned(x, { kid: 'attacker', x5c: [attackerRsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')] }),
    expectedStatus: 401,
  },
  { name: 'x5c, genuine signature', makeToken: (x) => genuine(x, {}, { x5c: ['MIIB'] }), expectedStatus: 401 },
  { name: 'jku with a null value, genuine signature', makeToken: (x) => genuine(x, {}, { jku: null }), expectedStatus: 401 },
];

const KID_INJECTION: Vector[] = [
  ...['../../etc/passwd', '/dev/null', "' OR 1=1 --", '"; DROP TABLE keys; --', '__proto__', 'constructor', 'toString', 'kid\u0000', '${jndi:ldap://127.0.0.1/a}', '*']
    .map((kid): Vector => ({ name: `kid ${JSON.stringify(kid)}, genuine signature`, makeToken: (x) => genuine(x, {}, { kid }), expectedStatus: 401 })),
  { name: 'kid empty', makeToken: (x) => genuine(x, {}, { kid: '' }), expectedStatus: 401 },
  { name: 'kid missing', makeToken: (x) => genuine(x, {}, { kid: undefined }), expectedStatus: 401 },
  { name: 'kid of 10 000 characters', makeToken: (x) => genuine(x, {}, { kid: 'k'.repeat(10_000) }), expectedStatus: 401 },
  { name: 'kid the real one followed by junk', makeToken: (x) => genuine(x, {}, { kid: `${x.kid}x` }), expectedStatus: 401 },
  { name: 'kid a number', makeToken: (x) => genuine(x, {}, { kid: 1 }), expectedStatus: 401 },
  { name: 'kid null', makeToken: (x) => genuine(x, {}, { kid: null }), expectedStatus: 401 },
  { name: 'kid an array holding the real kid', makeToken: (x) => genuine(x, {}, { kid: [x.kid] }), expectedStatus: 401 },
  { name: 'kid an object', makeToken: (x) => genuine(x, {}, { kid: { toString: x.kid } }), expectedStatus: 401 },
  { name: 'attacker key under the tenant kid', makeToken: (x) => attackerSigned(x, {}), expectedStatus: 401 },
];

const SIGNATURES: Vector[] = [
  { name: 'signature stripped, trailing dot kept', makeToken: (x) => `${split(x.userToken).slice(0, 2).join('.')}.`, expectedStatus: 401 },
  { name: 'signature stripped with its dot', makeToken: (x) => split(x.userToken).slice(0, 2).join('.'), expectedStatus: 401 },
  { name: 'signature truncated to half', makeToken: (x) => { const [p, q, s] = split(x.userToken); return `${p}.${q}.${s.slice(0, s.length / 2)}`; }, expectedStatus: 401 },
  { name: 'signature with its last byte dropped', makeToken: (x) => { const [p, q, s] = split(x.userToken); return `${p}.${q}.${Buffer.from(s, 'base64url').subarray(0, -1).toString('base64url')}`; }, expectedStatus: 401 },
  {
    name: 'signature with one bit flipped',
    makeToken: (x) => {
      const [p, q, s] = split(x.userToken);
      const bytes = Buffer.from(s, 'base64url');
      bytes[100] = (bytes[100] ?? 0) ^ 0x01;
      return `${p}.${q}.${bytes.toString('base64url')}`;
    },
    expectedStatus: 401,
  },
  { name: 'signature all zero bytes', makeToken: (x) => { const [p, q] = split(x.userToken); return `${p}.${q}.${Buffer.alloc(256).toString('base64url')}`; }, expectedStatus: 401 },
  { name: 'signature twice as long', makeToken: (x) => { const [p, q, s] = split(x.userToken); return `${p}.${q}.${s}${s}`; }, expectedStatus: 401 },
  { name: 'signature of another token', makeToken: (x) => { const [p, q] = split(x.userToken); return `${p}.${q}.${split(x.adminToken)[2]}`; }, expectedStatus: 401 },
  { name: 'a fourth part appended', makeToken: (x) => `${x.userToken}.${split(x.userToken)[2]}`, expectedStatus: 401 },
  { name: 'a trailing dot appended', makeToken: (x) => `${x.userToken}.`, expectedStatus: 401 },
];

const PAYLOAD_EDITS: Vector[] = [
  ...([
    ['sub changed', { sub: 'someone-else@clients' }, PROTECTED],
    ['exp pushed a year out', { exp: nowSeconds() + 31_536_000 }, PROTECTED],
    ['the admin permission added', { permissions: [ADMIN_PERMISSION] }, ADMIN],
    ['aud changed', { aud: 'https://other.example.com' }, PROTECTED],
  ] as const).map(([name, edit, url]): Vector => ({
    name: `payload edit under the old signature: ${name}`,
    makeToken: (x) => {
      const [p, q, s] = split(x.userToken);
      return `${p}.${b64({ ...decode(q), ...edit })}.${s}`;
    },
    expectedStatus: 401,
    url,
  })),
  {
    name: 'payload re-serialized with white space (same claims, other bytes)',
    makeToken: (x) => { const [p, q, s] = split(x.userToken); return `${p}.${b64(JSON.stringify(decode(q), null, 1))}.${s}`; },
    expectedStatus: 401,
  },
  {
    name: 'header swapped for another (typ at+jwt) under the old signature',
    makeToken: (x) => { const [, q, s] = split(x.userToken); return `${b64(x.header({ typ: 'at+jwt' }))}.${q}.${s}`; },
    expectedStatus: 401,
  },
];

const TIME: Vector[] = [
  { name: 'expired a minute ago', makeToken: (x) => genuine(x, { exp: nowSeconds() - 60 }), expectedStatus: 401 },
  { name: 'expired 6 s ago (just past the 5 s tolerance)', makeToken: (x) => genuine(x, { exp: nowSeconds() - 6 }), expectedStatus: 401 },
  { name: 'exp 0', makeToken: (x) => genuine(x, { exp: 0 }), expectedStatus: 401 },
  { name: 'exp negative', makeToken: (x) => genuine(x, { exp: -1 }), expectedStatus: 401 },
  { name: 'nbf 10 minutes ahead', makeToken: (x) => genuine(x, { nbf: nowSeconds() + 600 }), expectedStatus: 401 },
  { name: 'nbf 10 s ahead (past the tolerance)', makeToken: (x) => genuine(x, { nbf: nowSeconds() + 10 }), expectedStatus: 401 },
  { name: 'exp missing', makeToken: (x) => genuine(x, { exp: undefined }), expectedStatus: 401 },
  { name: 'exp as a string', makeToken: (x) => genuine(x, { exp: String(nowSeconds() + 600) }), expectedStatus: 401 },
  { name: 'exp null', makeToken: (x) => genuine(x, { exp: null }), expectedStatus: 401 },
  { name: 'exp true', makeToken: (x) => genuine(x, { exp: true }), expectedStatus: 401 },
  { name: 'exp as an array', makeToken: (x) => genuine(x, { exp: [nowSeconds() + 600] }), expectedStatus: 401 },
  { name: 'nbf as a string', makeToken: (x) => genuine(x, { nbf: '0' }), expectedStatus: 401 },
  { name: 'iat as a string', makeToken: (x) => genuine(x, { iat: 'now' }), expectedStatus: 401 },
];

const ISSUER: Vector[] = [
  { name: 'iss without the trailing slash', makeToken: (x) => genuine(x, { iss: x.tenant.tenant.url }), expectedStatus: 401 },
  { name: 'iss with https instead of http', makeToken: (x) => genuine(x, { iss: x.tenant.tenant.issuer.replace('http:', 'https:') }), expectedStatus: 401 },
  {
    name: 'iss on another port',
    makeToken: (x) => {
      const url = new URL(x.tenant.tenant.issuer);
      url.port = String(Number(url.port) === 65535 ? 1 : Number(url.port) + 1);
      return genuine(x, { iss: url.href });
    },
    expectedStatus: 401,
  },
  { name: 'iss with 127.0.0.1 for localhost', makeToken: (x) => genuine(x, { iss: x.tenant.tenant.issuer.replace('localhost', '127.0.0.1') }), expectedStatus: 401 },
  { name: 'iss another host', makeToken: (x) => genuine(x, { iss: 'https://evil.example.com/' }), expectedStatus: 401 },
  { name: 'iss with a double trailing slash', makeToken: (x) => genuine(x, { iss: `${x.tenant.tenant.issuer}/` }), expectedStatus: 401 },
  { name: 'iss with a path', makeToken: (x) => genuine(x, { iss: `${x.tenant.tenant.issuer}api/` }), expectedStatus: 401 },
  { name: 'iss in upper case', makeToken: (x) => genuine(x, { iss: x.tenant.tenant.issuer.toUpperCase() }), expectedStatus: 401 },
  { name: 'iss missing', makeToken: (x) => genuine(x, { iss: undefined }), expectedStatus: 401 },
  { name: 'iss as an array holding ours', makeToken: (x) => genuine(x, { iss: [x.tenant.tenant.issuer] }), expectedStatus: 401 },
];

const AUDIENCE: Vector[] = [
  { name: 'aud another API', makeToken: (x) => genuine(x, { aud: 'https://other.example.com' }), expectedStatus: 401 },
  { name: 'aud array without ours', makeToken: (x) => genuine(x, { aud: ['https://other.example.com', 'https://api.example.com'] }), expectedStatus: 401 },
  { name: 'aud empty array', makeToken: (x) => genuine(x, { aud: [] }), expectedStatus: 401 },
  { name: 'aud missing', makeToken: (x) => genuine(x, { aud: undefined }), expectedStatus: 401 },
  { name: 'aud a prefix of ours', makeToken: (x) => genuine(x, { aud: x.config.auth.audience.slice(0, -4) }), expectedStatus: 401 },
  { name: 'aud ours with a trailing slash', makeToken: (x) => genuine(x, { aud: `${x.config.auth.audience}/` }), expectedStatus: 401 },
  { name: 'aud ours in upper case', makeToken: (x) => genuine(x, { aud: x.config.auth.audience.toUpperCase() }), expectedStatus: 401 },
  { name: 'aud ours in a nested array', makeToken: (x) => genuine(x, { aud: [[x.config.auth.audience]] }), expectedStatus: 401 },
  { name: 'aud an object keyed by ours', makeToken: (x) => genuine(x, { aud: { [x.config.auth.audience]: true } }), expectedStatus: 401 },
  { name: 'aud a number', makeToken: (x) => genuine(x, { aud: 1 }), expectedStatus: 401 },
];

const ALGORITHMS: Vector[] = [
  ...(['RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const).map((alg): Vector => ({
    name: `${alg} signed with the tenant's own RSA key`,
    makeToken: (x) => signJson(x.header({ alg }), x.claims(), x.privateKey, alg),
    expectedStatus: 401,
  })),
  {
    name: 'ES256 signed with an attacker EC key under the tenant kid',
    makeToken: (x) => withSignatureOf(x, x.header({ alg: 'ES256' }), x.claims(), (input) =>
      cryptoSign('sha256', Buffer.from(input), { key: attackerEc.privateKey, dsaEncoding: 'ieee-p1363' })),
    expectedStatus: 401,
  },
  {
    name: 'EdDSA signed with an attacker Ed25519 key under the tenant kid',
    makeToken: (x) => withSignatureOf(x, x.header({ alg: 'EdDSA' }), x.claims(), (input) => cryptoSign(null, Buffer.from(input), attackerEd.privateKey)),
    expectedStatus: 401,
  },
  { name: 'RS256 signed by an attacker key published nowhere', makeToken: (x) => attackerSigned(x, { kid: 'attacker' }), expectedStatus: 401 },
];

const CRIT: Vector[] = [
  { name: 'crit naming an unknown extension', makeToken: (x) => genuine(x, {}, { crit: ['x-unknown'], 'x-unknown': 1 }), expectedStatus: 401 },
  { name: 'crit naming exp', makeToken: (x) => genuine(x, {}, { crit: ['exp'] }), expectedStatus: 401 },
  { name: 'crit b64 with b64 false (unencoded payload)', makeToken: (x) => genuine(x, {}, { crit: ['b64'], b64: false }), expectedStatus: 401 },
  { name: 'crit empty array', makeToken: (x) => genuine(x, {}, { crit: [] }), expectedStatus: 401 },
  { name: 'crit a string', makeToken: (x) => genuine(x, {}, { crit: 'b64' }), expectedStatus: 401 },
];

const signedRaw = (headerJson: string, payloadJson: string) => (x: Harness) => signSegments(b64(headerJson), b64(payloadJson), x.privateKey);
const signedHeaderBytes = (header: string | Buffer) => (x: Harness) =>
  signSegments(typeof header === 'string' ? b64(header) : header.toString('base64url'), b64(x.claims()), x.privateKey);
const signedPayloadBytes = (payload: string | Buffer) => (x: Harness) =>
  signSegments(b64(x.header()), typeof payload === 'string' ? b64(payload) : payload.toString('base64url'), x.privateKey);

const MALFORMED: Vector[] = [
  { name: 'header segment not base64url', makeToken: (x) => { const [, q, s] = split(x.userToken); return `~~~~.${q}.${s}`; }, expectedStatus: 401 },
  { name: 'payload segment not base64url', makeToken: (x) => { const [p, , s] = split(x.userToken); return `${p}.~~~~.${s}`; }, expectedStatus: 401 },
  { name: 'signature segment not base64url', makeToken: (x) => { const [p, q] = split(x.userToken); return `${p}.${q}.~~~~`; }, expectedStatus: 401 },
  { name: 'characters no token has (400 at the header parse)', makeToken: (x) => `${x.userToken}%00`, expectedStatus: 400 },
  { name: 'only dots', makeToken: () => '..', expectedStatus: 401 },
  { name: 'one segment', makeToken: () => 'eyJhbGciOiJSUzI1NiJ9', expectedStatus: 401 },
  { name: 'five segments (JWE shape)', makeToken: (x) => `${b64(x.header({ alg: 'RSA-OAEP', enc: 'A256GCM' }))}.a.b.c.d`, expectedStatus: 401 },
  ...(['not json', '[]', '["RS256"]', '123', '"RS256"', 'null', 'true', '{"alg":"RS256"'] as const).map((raw): Vector => ({
    name: `header ${JSON.stringify(raw)} (genuinely signed)`,
    makeToken: signedHeaderBytes(raw),
    expectedStatus: 401,
  })),
  { name: 'header of invalid UTF-8 (genuinely signed)', makeToken: signedHeaderBytes(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), expectedStatus: 401 },
  ...(['not json', '[]', '[{"sub":"x"}]', '42', '"claims"', 'null', 'true', '{"iss":'] as const).map((raw): Vector => ({
    name: `payload ${JSON.stringify(raw)} (genuinely signed)`,
    makeToken: signedPayloadBytes(raw),
    expectedStatus: 401,
  })),
  { name: 'payload of invalid UTF-8 (genuinely signed)', makeToken: signedPayloadBytes(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), expectedStatus: 401 },
  { name: 'a 1 MiB token of token characters', makeToken: () => `${'a'.repeat(512 * 1024)}.${'b'.repeat(512 * 1024)}.c`, expectedStatus: 401 },
];

/**
 * RFC 7515 section 4 / RFC 7519 section 4: duplicate member names must be rejected or the lexically
 * last taken. jose takes the last (JSON.parse). What matters: a forged signature never passes,
 * whatever the duplicates; the tenant-signed cases document the last-wins reading.
 */
const DUPLICATE_KEYS: Vector[] = [
  {
    name: 'duplicate alg ("none" then "RS256"), forged signature',
    makeToken: (x) => {
      const input = `${b64(`{"alg":"none","typ":"JWT","kid":"${x.kid}","alg":"RS256"}`)}.${b64(x.claims())}`;
      return `${input}.${split(x.userToken)[2]}`;
    },
    expectedStatus: 401,
  },
  {
    name: 'duplicate alg ("RS256" then "none"), genuine signature: the last one counts',
    makeToken: signedRaw('{"alg":"RS256","typ":"JWT","kid":"K","alg":"none"}', '{}'),
    expectedStatus: 401,
  },
  {
    name: 'duplicate kid (real then unknown), genuine signature: the last one counts',
    makeToken: (x) => signSegments(b64(`{"alg":"RS256","typ":"JWT","kid":"${x.kid}","kid":"unknown"}`), b64(x.claims()), x.privateKey),
    expectedStatus: 401,
  },
  {
    name: 'duplicate permissions (admin then none) under the user token signature',
    makeToken: (x) => {
      const [p, q, s] = split(x.userToken);
      const claims = JSON.stringify(decode(q)).slice(0, -1);
      return `${p}.${b64(`${claims},"permissions":["${ADMIN_PERMISSION}"],"permissions":[]}`)}.${s}`;
    },
    expectedStatus: 401,
    url: ADMIN,
  },
  {
    name: 'duplicate permissions (admin then none), genuine signature: the last one counts',
    makeToken: (x) => signSegments(b64(x.header()), b64(`${JSON.stringify(x.claims()).slice(0, -1)},"permissions":["${ADMIN_PERMISSION}"],"permissions":[]}`), x.privateKey),
    expectedStatus: 403,
    url: ADMIN,
  },
  {
    name: 'duplicate aud (ours then another), genuine signature: the last one counts',
    makeToken: (x) => signSegments(b64(x.header()), b64(`${JSON.stringify(x.claims()).slice(0, -1)},"aud":"https://other.example.com"}`), x.privateKey),
    expectedStatus: 401,
  },
  {
    name: 'control: duplicate alg ("none" then "RS256"), genuine signature, is the RS256 token the tenant signed',
    makeToken: (x) => signSegments(b64(`{"alg":"none","typ":"JWT","kid":"${x.kid}","alg":"RS256"}`), b64(x.claims()), x.privateKey),
    expectedStatus: 200,
  },
];

const CONTROLS: Vector[] = [
  { name: 'control: a token signed here with the tenant key is accepted', makeToken: (x) => genuine(x), expectedStatus: 200 },
  { name: 'control: the same with the admin permission on /admin', makeToken: (x) => genuine(x, { permissions: [ADMIN_PERMISSION] }), expectedStatus: 200, url: ADMIN },
  { name: 'control: a tenant-issued token', makeToken: (x) => x.userToken, expectedStatus: 200 },
];

const GROUPS: Record<string, readonly Vector[]> = {
  'alg none (RFC 8725 section 3.1)': ALG_NONE,
  'RSA/HMAC key confusion (RFC 8725 section 2.1)': KEY_CONFUSION,
  'keys supplied in the token header': EMBEDDED_KEYS,
  'kid injection': KID_INJECTION,
  'stripped, truncated and tampered signatures': SIGNATURES,
  'payload edits under an old signature': PAYLOAD_EDITS,
  'exp / nbf / iat': TIME,
  'issuer confusion': ISSUER,
  'audience confusion (RFC 8725 section 3.9)': AUDIENCE,
  'algorithms other than RS256': ALGORITHMS,
  'crit header (RFC 7515 section 4.1.11)': CRIT,
  'malformed base64url, JSON and shapes': MALFORMED,
  'duplicate JSON member names': DUPLICATE_KEYS,
  controls: CONTROLS,
};

for (const [group, vectors] of Object.entries(GROUPS)) {
  describe(group, () => {
    for (const vector of vectors) {
      it(`${vector.expectedStatus} for ${vector.name}`, async () => {
        const token = vector.makeToken(h);
        const response = await h.app.inject({ method: 'GET', url: vector.url ?? PROTECTED, headers: bearer(token) });
        if (vector.expectedStatus === 200) {
          assert.equal(response.statusCode, 200, response.body);
        } else {
          assertRefused(response, vector.expectedStatus, vector.name);
          // Whatever was refused, only a genuine tenant signature may ever be accepted.
          if (response.statusCode < 300) assert.ok(signatureIsGenuine(token, h.publicKey));
        }
        await assertStillServing(h);
      });
    }
  });
}

describe('what the attacks cost the tenant and the API', () => {
  it('never fetches a key from jku or x5u', () => {
    assert.equal(lure.requests, 0, 'the server behind jku/x5u was never asked');
  });

  it('a flood of unknown kids costs the tenant no more JWKS fetches than the unknown-kid budget', async () => {
    await h.keySet.warm();
    const before = h.keySet.fetchCount;
    const started = Date.now();
    // Waves one after the other: concurrent requests share one fetch anyway; only the budget
    // (a burst of 3, then one per 10 s) stops each new wave from fetching again.
    for (let wave = 0; wave < 5; wave += 1) {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h.app.inject({ method: 'GET', url: PROTECTED, headers: bearer(genuine(h, {}, { kid: `flood-${wave}-${i}` })) })),
      );
      for (const response of responses) assertRefused(response, 401);
    }
    const { unknownKidFetchBurst, unknownKidFetchRefillMs } = DEFAULT_KEY_SET_OPTIONS;
    const allowed = unknownKidFetchBurst + Math.floor((Date.now() - started) / unknownKidFetchRefillMs);
    assert.ok(h.keySet.fetchCount - before <= allowed, `fetches: ${h.keySet.fetchCount - before}, allowed ${allowed}`);
    await assertStillServing(h);
  });
});

describe('header rules run before any key lookup', () => {
  // With no unknown-kid budget every unknown kid would refetch the JWKS, so a fetch shows the rule was skipped.
  let eager: Harness;
  before(async () => { eager = await startHarness({ unknownKidFetchRefillMs: 0 }); await eager.keySet.warm(); });
  after(() => eager.close());

  const refusedBeforeLookup: [string, (x: Harness) => string][] = [
    ['kid empty', (x) => genuine(x, {}, { kid: '' })],
    ['kid missing', (x) => genuine(x, {}, { kid: undefined })],
    ['kid of 10 000 characters', (x) => genuine(x, {}, { kid: 'k'.repeat(10_000) })],
    ['kid a number', (x) => genuine(x, {}, { kid: 7 })],
    ['kid an array', (x) => genuine(x, {}, { kid: ['a'] })],
    ['jku, unknown kid', (x) => genuine(x, {}, { kid: 'unknown', jku: lure.jwksUri })],
    ['jwk, unknown kid', (x) => genuine(x, {}, { kid: 'unknown', jwk: x.publicJwk })],
    ['typ missing, unknown kid', (x) => genuine(x, {}, { kid: 'unknown', typ: undefined })],
    ['alg none, unknown kid', (x) => `${b64(x.header({ alg: 'none', kid: 'unknown' }))}.${b64(x.claims())}.`],
    ['alg HS256, unknown kid', (x) => hmacSigned({ ...x, header: (extra) => x.header({ ...extra, kid: 'unknown' }) }, spkiPem(x))],
  ];
  for (const [name, makeToken] of refusedBeforeLookup) {
    it(`${name}: 401 without touching the JWKS`, async () => {
      const before = eager.keySet.fetchCount;
      assertRefused(await eager.app.inject({ method: 'GET', url: PROTECTED, headers: bearer(makeToken(eager)) }), 401);
      assert.equal(eager.keySet.fetchCount, before, 'no JWKS fetch');
    });
  }

  it('control: a well-formed unknown kid does refetch when no cooldown applies', async () => {
    const before = eager.keySet.fetchCount;
    assertRefused(await eager.app.inject({ method: 'GET', url: PROTECTED, headers: bearer(genuine(eager, {}, { kid: 'rotated?' })) }), 401);
    assert.equal(eager.keySet.fetchCount, before + 1);
  });

  it('the key confusion helpers really build what the tenant public key is', () => {
    assert.equal(createPublicKey(spkiPem(h)).export({ format: 'jwk' }).n, h.publicJwk.n);
  });
});

describe('a weak key in the tenant JWKS', () => {
  // jose refuses RSA keys under 2048 bits with a TypeError at verification time; the key set must
  // not hold such a key, or every token naming it would be a 500 instead of a refusal.
  let jwks: JwksServer;
  let app: Awaited<ReturnType<typeof buildApp>>;
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const strong = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (key: typeof weak.publicKey, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
  let issuer: string;
  before(async () => {
    jwks = await startJwksServer({ kind: 'json', body: { keys: [jwk(weak.publicKey, 'weak'), jwk(strong.publicKey, 'strong')] } });
    const config = apiConfigFor(jwks.url);
    issuer = `${jwks.url}/`;
    app = await buildApp(config, { issuers: IssuerRegistry.fromConfig(config.auth) });
  });
  after(async () => {
    await app.close();
    await jwks.close();
  });
  const token = (kid: string, key: typeof weak.privateKey) =>
    signJson({ alg: 'RS256', typ: 'JWT', kid }, { iss: issuer, aud: DEFAULT_AUDIENCE, exp: nowSeconds() + 600 }, key);

  it('a token signed by a 1024-bit key is refused with 401, not 500', async () => {
    assertRefused(await app.inject({ method: 'GET', url: PROTECTED, headers: bearer(token('weak', weak.privateKey)) }), 401);
  });

  it('control: the 2048-bit key of the same JWKS still works', async () => {
    assert.equal((await app.inject({ method: 'GET', url: PROTECTED, headers: bearer(token('strong', strong.privateKey)) })).statusCode, 200);
  });
});
