import assert from 'node:assert/strict';
import { type JsonWebKey, KeyObject, constants, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { JWK } from 'jose';
import { buildApp } from '../../src/app.js';
import { type IssuerKeySetOptions, IssuerRegistry } from '../../src/auth/issuers.js';
import type { RemoteKeySet } from '../../src/auth/key-set.js';
import type { Config } from '../../src/config/config.js';
import { loadOrCreateSigningKeys } from '../../src/dev-tenant/signing-keys.js';
import { messageBody } from '../../src/messages/messages.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * Shared set-up for the attack tests: a real dev tenant on loopback, the API built on it with a
 * key set the test can observe (fetchCount), and raw access to the tenant's keys so tests can sign
 * anything — including bytes no JWT library would produce (duplicate keys, arrays, odd algs).
 */
export interface Harness {
  readonly tenant: TestTenant;
  readonly app: FastifyInstance;
  readonly issuers: IssuerRegistry;
  /** The one issuer's key set. */
  readonly keySet: RemoteKeySet;
  readonly config: Config;
  /** kid of the tenant's current signing key. */
  readonly kid: string;
  /** The public key exactly as the tenant's JWKS publishes it. */
  readonly publicJwk: JWK;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly userToken: string;
  readonly adminToken: string;
  /** Valid, untouched claims for a token of this tenant (fresh iat/exp). */
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
  /** The standard header of this tenant's tokens. */
  header(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startHarness(keySetOptions: IssuerKeySetOptions = {}): Promise<Harness> {
  const tenant = await startTestTenant();
  const config = apiConfigFor(tenant.tenant.url);
  const issuers = IssuerRegistry.fromConfig(config.auth, keySetOptions);
  const keySet = onlyKeySet(issuers);
  const app = await buildApp(config, { issuers });
  const { current } = await loadOrCreateSigningKeys(tenant.keysDir);
  const jwks = (await (await fetch(`${tenant.tenant.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const publicJwk = jwks.keys.find((key) => key.kid === current.kid);
  if (publicJwk === undefined) throw new Error('the tenant JWKS lacks its current key');
  const [userToken, adminToken] = await Promise.all([tenant.token('user'), tenant.token('admin')]);
  return {
    tenant,
    app,
    issuers,
    keySet,
    config,
    kid: current.kid,
    publicJwk,
    publicKey: createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }),
    privateKey: KeyObject.from(current.privateKey),
    userToken,
    adminToken,
    claims(extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: tenant.tenant.issuer,
        sub: 'attacker@clients',
        aud: config.auth.audience,
        iat: now,
        exp: now + 600,
        permissions: [],
        ...extra,
      };
    },
    header(extra = {}) {
      return { alg: 'RS256', typ: 'JWT', kid: current.kid, ...extra };
    },
    async close() {
      await app.close();
      await tenant.close();
    },
  };
}

/** The key set of a registry built for one issuer. */
export function onlyKeySet(issuers: IssuerRegistry): RemoteKeySet {
  const [only, ...others] = issuers.all;
  if (only === undefined || others.length > 0) throw new Error('expected exactly one issuer');
  return only.keySet;
}

/** base64url of a string (taken as is), bytes, or anything else as JSON. */
export function b64(value: unknown): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export type SigningAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** Signs `signingInput` with an RSA private key the way `alg` would (JWA section 3.3 / 3.5). */
export function rsaSign(signingInput: string, key: KeyObject, alg: SigningAlg = 'RS256'): string {
  const hash = `sha${alg.slice(2)}`;
  const options = alg.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
    : key;
  return cryptoSign(hash, Buffer.from(signingInput, 'ascii'), options).toString('base64url');
}

/** A compact JWS over the given header and payload segments (already encoded), RS256-signed with `key`. */
export function signSegments(header: string, payload: string, key: KeyObject, alg: SigningAlg = 'RS256'): string {
  return `${header}.${payload}.${rsaSign(`${header}.${payload}`, key, alg)}`;
}

/** A compact JWS over JSON (or raw strings) header and payload, RS256-signed with `key`. */
export function signJson(header: unknown, payload: unknown, key: KeyObject, alg: SigningAlg = 'RS256'): string {
  return signSegments(b64(header), b64(payload), key, alg);
}

/**
 * An oracle independent of the API and of jose: does this compact token carry a genuine RS256
 * signature of the tenant over its own signing input? Any token the API accepts must pass this.
 */
export function signatureIsGenuine(token: string, publicKey: KeyObject): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header = '', payload = '', signature = ''] = parts;
  try {
    return cryptoVerify('sha256', Buffer.from(`${header}.${payload}`, 'latin1'), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The public message of each status the API may answer an attack with (the error table). */
export const ERROR_MESSAGES: Readonly<Record<number, RegExp>> = {
  400: /^(Authorization header must be "(Bearer|DPoP) <token>": .+|A DPoP request (needs a DPoP header with the proof|takes exactly one DPoP header)|Request bodies are not accepted|Bad Request)$/,
  401: /^(Bad credentials|Requires authentication)$/,
  403: /^Permission denied$/,
  429: /^Too many DPoP proofs with this key; try again later$/,
  503: /^DPoP proofs cannot be checked for replay right now; try again shortly$/,
  408: /^Request Timeout$/,
  431: /^Request Header Fields Too Large$/,
};

/** Library or runtime text that must never reach a client. */
const LEAKS = /jose|JWS|JWT|JWK|claim|signature|Error|stack|\bat \S+ \(|node_modules|\.ts\b|\.js\b/;

/** Checks a refusal body: exactly {"message"}, the message the table gives for the status, no library text. */
export function assertRefusalBody(status: number, body: string, expectedStatus: number, context = ''): void {
  assert.equal(status, expectedStatus, `${context} status (body ${body.slice(0, 200)})`);
  const parsed = JSON.parse(body) as unknown;
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), `${context} body is an object`);
  assert.deepEqual(Object.keys(parsed), ['message'], `${context} body has only "message"`);
  const message = (parsed as { message: unknown }).message;
  assert.equal(typeof message, 'string');
  const allowed = ERROR_MESSAGES[expectedStatus];
  assert.ok(allowed !== undefined, `no message table entry for ${expectedStatus}`);
  assert.match(message as string, allowed, `${context} message`);
  assert.doesNotMatch(body, LEAKS, `${context} body leaks library text`);
}

export function assertRefused(response: LightMyRequestResponse, expectedStatus: number, context = ''): void {
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${context} content-type`);
  assertRefusalBody(response.statusCode, response.body, expectedStatus, context);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A follow-up request with a valid token still gets 200: the attack left the server serving. */
export async function assertStillServing(harness: Harness): Promise<void> {
  const response = await harness.app.inject({ method: 'GET', url: '/api/messages/admin', headers: bearer(harness.adminToken) });
  assert.equal(response.statusCode, 200, `server keeps serving (got ${response.statusCode} ${response.body})`);
  assert.deepEqual(response.json(), messageBody('admin'));
}
