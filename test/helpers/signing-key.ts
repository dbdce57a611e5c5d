import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { DEFAULT_AUDIENCE } from '../../src/config/config.js';

/** An RS256 key pair for a scriptable JWKS server: the public JWK as published, the private key to sign. */
export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeTestKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' } };
}

/** A valid RS256 access token of `issuer` for the default audience, 10 min, signed by `key` under `kid`. */
export function signTestToken(key: TestKey, issuer: string, kid: string = key.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ permissions: [] })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .setIssuer(issuer)
    .setAudience(DEFAULT_AUDIENCE)
    .setSubject('client@clients')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(key.privateKey);
}
