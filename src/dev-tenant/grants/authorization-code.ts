import { missingParameter, oauthError, parameter } from '../oauth-params.js';
import { verifierMatches } from '../pkce.js';
import { type Grant, userTokenResponse } from './grant.js';
import { checkPublicClient } from './public-client.js';

/**
 * `grant_type=authorization_code` with PKCE, as the SPA SDK redeems a code: the code must be
 * unused, unexpired, issued to this client for this `redirect_uri`, and the verifier must hash to
 * its challenge. A replayed code revokes the refresh tokens its first redemption issued.
 */

export const AUTHORIZATION_CODE_GRANT = 'authorization_code';

const invalidGrant = (description: string) => oauthError(403, 'invalid_grant', description);

export const authorizationCodeGrant: Grant = async (body, context) => {
  const { config, codes, refreshTokens, signing } = context;
  const client = checkPublicClient(body, config, AUTHORIZATION_CODE_GRANT);
  if (!client.ok) return client;
  const code = parameter(body, 'code');
  if (code === undefined) return missingParameter('code');
  const verifier = parameter(body, 'code_verifier');
  if (verifier === undefined) return missingParameter('code_verifier');
  const redirectUri = parameter(body, 'redirect_uri');
  if (redirectUri === undefined) return missingParameter('redirect_uri');

  const redemption = codes.redeem(code, signing.nowSeconds);
  if (!redemption.ok) {
    if (redemption.reason === 'replayed' && redemption.refreshFamily !== undefined) {
      refreshTokens.revokeFamily(redemption.refreshFamily);
    }
    return invalidGrant('Invalid authorization code');
  }
  const { grant } = redemption;
  if (grant.clientId !== client.clientId) return invalidGrant('Invalid authorization code');
  if (grant.redirectUri !== redirectUri) {
    return invalidGrant('The redirect_uri MUST match the registered callback URL for this application.');
  }
  if (!verifierMatches(verifier, grant.codeChallenge)) return invalidGrant('Failed to verify code verifier');
  const user = config.users.find((candidate) => candidate.userId === grant.userId);
  if (user === undefined) return invalidGrant('The user no longer exists');

  let refreshToken: string | undefined;
  if (grant.scope.includes('offline_access')) {
    const issued = refreshTokens.issue(
      {
        clientId: grant.clientId,
        userId: grant.userId,
        sessionId: grant.sessionId,
        authTime: grant.authTime,
        scope: grant.scope,
        audience: grant.audience,
        // A sign-in with a DPoP proof: its refresh tokens are bound to that key (RFC 9449 section 5).
        jkt: signing.jkt,
      },
      signing.nowSeconds,
    );
    codes.recordRefreshFamily(redemption.code, issued.family, signing.nowSeconds);
    refreshToken = issued.refreshToken;
  }
  return {
    ok: true,
    body: await userTokenResponse(context, {
      user,
      clientId: grant.clientId,
      scope: grant.scope,
      audience: grant.audience,
      nonce: grant.nonce,
      authTime: grant.authTime,
      sessionId: grant.sessionId,
      refreshToken,
    }),
  };
};
