import { missingParameter, oauthError, parameter, scopeList } from '../oauth-params.js';
import { type Grant, userTokenResponse } from './grant.js';
import { checkPublicClient } from './public-client.js';

/**
 * `grant_type=refresh_token` with rotation: the answer carries a new refresh token and the one
 * presented is retired; presenting a retired one revokes the family (refresh-tokens.ts).
 * A `scope` may narrow, never widen, what the sign-in granted: values it did not grant are dropped
 * (the SDK repeats its whole configured scope on every refresh). A refresh token from a sign-in
 * with a DPoP proof is only redeemed with a proof of the same key (RFC 9449 section 5).
 */

export const REFRESH_TOKEN_GRANT = 'refresh_token';

export const refreshTokenGrant: Grant = async (body, context) => {
  const { config, refreshTokens, signing } = context;
  const client = checkPublicClient(body, config, REFRESH_TOKEN_GRANT);
  if (!client.ok) return client;
  const presented = parameter(body, 'refresh_token');
  if (presented === undefined) return missingParameter('refresh_token');
  const rotation = refreshTokens.rotate(presented, client.clientId, signing.nowSeconds, signing.jkt);
  if (!rotation.ok && rotation.reason === 'wrong_key') {
    return oauthError(400, 'invalid_dpop_proof', 'This refresh token is DPoP-bound: send a DPoP proof signed with the key it is bound to');
  }
  if (!rotation.ok) return oauthError(403, 'invalid_grant', 'Unknown or invalid refresh token.');
  const { grant } = rotation;
  const asked = parameter(body, 'scope');
  const scope = asked === undefined ? grant.scope : scopeList(asked).filter((value) => grant.scope.includes(value));
  const user = config.users.find((candidate) => candidate.userId === grant.userId);
  if (user === undefined) return oauthError(403, 'invalid_grant', 'The user no longer exists');
  return {
    ok: true,
    body: await userTokenResponse(context, {
      user,
      clientId: grant.clientId,
      scope,
      audience: grant.audience,
      nonce: undefined,
      authTime: grant.authTime,
      sessionId: grant.sessionId,
      refreshToken: rotation.refreshToken,
    }),
  };
};
