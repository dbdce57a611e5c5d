import type { FastifyPluginAsync } from 'fastify';
import { createTokenRequestBinding } from '../dpop-binding.js';
import type { AuthorizationCodeStore } from '../code-store.js';
import type { DevTenantConfig } from '../config.js';
import { AUTHORIZATION_CODE_GRANT, authorizationCodeGrant } from '../grants/authorization-code.js';
import { CLIENT_CREDENTIALS_GRANT, clientCredentialsGrant } from '../grants/client-credentials.js';
import type { Grant } from '../grants/grant.js';
import { REFRESH_TOKEN_GRANT, refreshTokenGrant } from '../grants/refresh-token.js';
import { missingParameter, oauthError, parameter } from '../oauth-params.js';
import type { RefreshTokenStore } from '../refresh-tokens.js';
import { requestedSigningAlg, type TenantSigningKeys } from '../signing-algorithms.js';
import { SIGNING_ALG } from '../signing-keys.js';
import { TOKEN_PATH } from './discovery.js';
import { noStore, sendOAuthError } from './replies.js';

export interface TokenRoutesOptions {
  readonly config: DevTenantConfig;
  readonly issuer: () => string;
  readonly keys: TenantSigningKeys;
  readonly codes: AuthorizationCodeStore;
  readonly refreshTokens: RefreshTokenStore;
  /** Seconds since the epoch. */
  readonly now: () => number;
  /** DPoP proofs remembered at once (dpop-binding.ts's default when undefined). */
  readonly dpopReplayMaxEntries?: number | undefined;
}

const GRANTS: ReadonlyMap<string, Grant> = new Map([
  [CLIENT_CREDENTIALS_GRANT, clientCredentialsGrant],
  [AUTHORIZATION_CODE_GRANT, authorizationCodeGrant],
  [REFRESH_TOKEN_GRANT, refreshTokenGrant],
]);

/** POST /oauth/token, JSON or form body, client credentials in the body or HTTP Basic: picks the grant module by `grant_type`. */
export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app, options) => {
  const { config, issuer, keys, codes, refreshTokens, now, dpopReplayMaxEntries } = options;
  const bindingFor = createTokenRequestBinding(() => new URL(TOKEN_PATH, issuer()), dpopReplayMaxEntries);
  app.post(TOKEN_PATH, {
    // Set before the body is parsed so error replies (bad JSON) are not cacheable either.
    onRequest: (_request, reply, done) => {
      noStore(reply);
      done();
    },
    handler: async (request, reply) => {
      const grantType = parameter(request.body, 'grant_type');
      if (grantType === undefined) return sendOAuthError(reply, missingParameter('grant_type').error);
      const grant = GRANTS.get(grantType);
      if (grant === undefined) {
        return sendOAuthError(reply, oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`).error);
      }
      const signingAlg = requestedSigningAlg(request.body, keys.algorithms);
      if (!signingAlg.ok) return sendOAuthError(reply, signingAlg.error);
      // Verified before the grant runs, so a bad proof does not use up an authorization code;
      // recorded by the grant once the client, the grant and the binding are checked.
      const binding = await bindingFor(request.headers.dpop);
      if (!binding.ok) return sendOAuthError(reply, binding.error);
      // ID tokens stay RS256 whatever the access token's algorithm: the SPA SDK accepts nothing else.
      const signing = {
        key: await keys.current(signingAlg.alg),
        idTokenKey: await keys.current(SIGNING_ALG),
        issuer: issuer(),
        nowSeconds: now(),
        jkt: binding.jkt,
      };
      const result = await grant(request.body, {
        config,
        signing,
        codes,
        refreshTokens,
        authorization: request.headers.authorization,
        recordProof: binding.record,
      });
      if (!result.ok) return sendOAuthError(reply, result.error);
      return binding.jkt === undefined ? result.body : { ...result.body, token_type: 'DPoP' };
    },
  });
  return Promise.resolve();
};
