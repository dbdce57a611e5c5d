import { randomUUID } from 'node:crypto';
import { type CryptoKey, type JWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { accessTokenHash } from '../../src/auth/dpop-proof.js';

/** RFC 9728's `resource_metadata` challenge parameter of the API at `origin` (apiConfigFor's PORT is 6060). */
export const resourceMetadata = (origin = 'http://localhost:6060'): string =>
  `resource_metadata="${origin}/.well-known/oauth-protected-resource"`;

/** The DPoP challenge the API at `origin` offers beside Bearer (mode allowed) or alone (mode required). */
export const dpopChallenge = (origin?: string): string =>
  `DPoP realm="api", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519", ${resourceMetadata(origin)}`;

/** The DPoP challenge of an API built with apiConfigFor. */
export const DPOP_CHALLENGE = dpopChallenge();

/** A client's DPoP key pair, as auth0-spa-js makes one (ES256, non-extractable private key). */
export interface DpopClientKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  readonly jkt: string;
  readonly alg: string;
}

export async function dpopClientKey(alg = 'ES256'): Promise<DpopClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk), alg };
}

export interface ProofOptions {
  readonly htm?: string;
  readonly htu: string;
  /** The access token whose hash goes in `ath`. */
  readonly accessToken?: string;
  readonly nonce?: string;
  /** Claims to set or (undefined) remove, after the defaults. */
  readonly claims?: Record<string, unknown>;
  /** Header parameters to set or (undefined) remove, after the defaults. */
  readonly header?: Record<string, unknown>;
}

/** A proof valid in every respect but those `options` change: fresh jti, iat now, htm GET. */
export async function makeProof(key: DpopClientKey, options: ProofOptions): Promise<string> {
  const claims = withoutUndefined({
    jti: randomUUID(),
    htm: options.htm ?? 'GET',
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ...(options.accessToken !== undefined && { ath: accessTokenHash(options.accessToken) }),
    ...(options.nonce !== undefined && { nonce: options.nonce }),
    ...options.claims,
  });
  const header = withoutUndefined({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...options.header });
  // SignJWT takes the header as given; alg must stay a string for jose to pick the signer.
  return new SignJWT(claims).setProtectedHeader({ ...header, alg: key.alg }).sign(key.privateKey);
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
