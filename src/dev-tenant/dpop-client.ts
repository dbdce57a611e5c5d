import { randomUUID } from 'node:crypto';
import { type CryptoKey, type JWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { accessTokenHash } from '../auth/dpop-proof.js';

/** A DPoP client's side, for the `call` command: one ES256 key, a fresh proof per request (jose signs). */
export interface DpopSigner {
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string;
  proof(request: { readonly htm: string; readonly htu: string; readonly accessToken?: string; readonly nonce?: string }): Promise<string>;
}

/** A new ES256 key pair (what auth0-spa-js uses); the private key never leaves this process. */
export async function createDpopSigner(): Promise<DpopSigner> {
  const { privateKey, publicKey }: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair('ES256');
  const jwk: JWK = await exportJWK(publicKey);
  return {
    jkt: await calculateJwkThumbprint(jwk),
    proof({ htm, htu, accessToken, nonce }) {
      return new SignJWT({
        jti: randomUUID(),
        htm,
        htu,
        ...(accessToken !== undefined && { ath: accessTokenHash(accessToken) }),
        ...(nonce !== undefined && { nonce }),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(privateKey);
    },
  };
}
