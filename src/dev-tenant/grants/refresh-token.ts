import { authenticateClient } from '../client-authentication.js';
import { missingParameter, oauthError, parameter, scopeList } from '../oauth-params.js';
import { type Grant, userTokenResponse } from './grant.js';

/**
 * `grant_type=refresh_token` with rotation: the answer carries a new refresh token and the one
 * presented is retired; presenting a retired one revokes the family (refresh-tokens.ts).
 * A `scope` may narrow, never widen, what the sign-in granted: values it did not grant are dropped
 * (the SDK repeats its whole configured scope on every refresh). A public client's refresh token
 * bound to a DPoP key is only redeemed with a proof of that key; the first refresh with a proof
 * binds an unbound one from then on (RFC 9449 section 5). The proof is recorded only after these
 * checks, and the token rotated only after the proof is recorded.
 */

export const REFRESH_TOKEN_GRANT = 'refresh_token';

export const refreshTokenGrant: Grant = async (body, context) => {
  const { config, refreshTokens, signing, authorization, recordProof } = context;
  const authenticated = authenticateClient(body, authorization, config, REFRESH_TOKEN_GRANT);
  if (!authenticated.ok) return authenticated;
  const { client } = authenticated;
  const presented = parameter(body, 'refresh_token');
  if (presented === undefined) return missingParameter('refresh_token');
  const refused = (reason: string) =>
    reason === 'wrong_key'
      ? oauthError(400, 'invalid_dpop_proof', 'This refresh token is DPoP-bound: send a DPoP proof signed with the key it is bound to')
      : oauthError(403, 'invalid_grant', 'Unknown or invalid refresh token.');
  const checked = refreshTokens.check(presented, client.clientId, signing.nowSeconds, signing.jkt);
  if (!checked.ok) return refused(checked.reason);
  const replay = await recordProof();
  if (replay !== undefined) return { ok: false, error: replay };
  const bindTo = client.kind === 'spa' ? signing.jkt : undefined;
  const rotation = refreshTokens.rotate(presented, client.clientId, signing.nowSeconds, signing.jkt, bindTo);
  if (!rotation.ok) return refused(rotation.reason);
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
