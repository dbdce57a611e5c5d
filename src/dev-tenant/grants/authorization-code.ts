import { authenticateClient } from '../client-authentication.js';
import { missingParameter, oauthError, parameter } from '../oauth-params.js';
import { verifierMatches } from '../pkce.js';
import { type Grant, userTokenResponse } from './grant.js';

/**
 * `grant_type=authorization_code` with PKCE, as the SPA SDK and nextjs-auth0 redeem a code: the
 * code must be unused, unexpired, issued to this client for this `redirect_uri`, and the verifier
 * must hash to its challenge. Any attempt with a code uses it up, whatever else is wrong with the
 * request (client, secret, verifier): whoever holds a stolen code gets a single try. A replayed
 * code revokes the refresh tokens its first redemption issued.
 */

export const AUTHORIZATION_CODE_GRANT = 'authorization_code';

const invalidGrant = (description: string) => oauthError(403, 'invalid_grant', description);

export const authorizationCodeGrant: Grant = async (body, context) => {
  const { config, codes, refreshTokens, signing, authorization, recordProof } = context;
  const code = parameter(body, 'code');
  if (code === undefined) return missingParameter('code');
  const redemption = codes.redeem(code, signing.nowSeconds);
  if (!redemption.ok && redemption.reason === 'replayed' && redemption.refreshFamily !== undefined) {
    refreshTokens.revokeFamily(redemption.refreshFamily);
  }

  const authenticated = authenticateClient(body, authorization, config, AUTHORIZATION_CODE_GRANT);
  if (!authenticated.ok) return authenticated;
  const { client } = authenticated;
  const verifier = parameter(body, 'code_verifier');
  if (verifier === undefined) return missingParameter('code_verifier');
  const redirectUri = parameter(body, 'redirect_uri');
  if (redirectUri === undefined) return missingParameter('redirect_uri');
  if (!redemption.ok) return invalidGrant('Invalid authorization code');
  const { grant } = redemption;
  if (grant.clientId !== client.clientId) return invalidGrant('Invalid authorization code');
  if (grant.redirectUri !== redirectUri) {
    return invalidGrant('The redirect_uri MUST match the registered callback URL for this application.');
  }
  if (!verifierMatches(verifier, grant.codeChallenge)) return invalidGrant('Failed to verify code verifier');
  const user = config.users.find((candidate) => candidate.userId === grant.userId);
  if (user === undefined) return invalidGrant('The user no longer exists');
  const replay = await recordProof();
  if (replay !== undefined) return { ok: false, error: replay };

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
        // A public client's sign-in with a DPoP proof: its refresh tokens are bound to that key
        // (RFC 9449 section 5). A confidential client's are bound to its secret instead.
        jkt: client.kind === 'spa' ? signing.jkt : undefined,
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
