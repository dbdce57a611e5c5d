import type { DevTenantConfig, DevTenantUser } from '../config.js';
import type { AuthorizationCodeStore } from '../code-store.js';
import type { OAuthError } from '../oauth-params.js';
import type { RefreshTokenStore } from '../refresh-tokens.js';
import { signAccessToken, signIdToken, type SigningContext, userAccessTokenAudience } from '../tokens.js';

/** What every grant of POST /oauth/token gets and answers; one module per grant type beside this one. */

export interface GrantContext {
  readonly config: DevTenantConfig;
  readonly signing: SigningContext;
  readonly codes: AuthorizationCodeStore;
  readonly refreshTokens: RefreshTokenStore;
  /** The request's Authorization header: HTTP Basic client credentials (client-authentication.ts). */
  readonly authorization: string | undefined;
  /**
   * Records the request's DPoP proof against replay (dpop-binding.ts); a grant calls it once the
   * client, the grant and the binding are checked, and stops on the refusal it returns.
   */
  readonly recordProof: () => Promise<OAuthError | undefined>;
}

export interface TokenResponseBody {
  readonly access_token: string;
  /** DPoP when the request carried a valid proof (the access token then has `cnf.jkt`). */
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  /** Space-separated: permissions for a machine, granted scopes for a user ("" when none). */
  readonly scope: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
}

export type GrantResult = { readonly ok: true; readonly body: TokenResponseBody } | { readonly ok: false; readonly error: OAuthError };

export type Grant = (body: unknown, context: GrantContext) => Promise<GrantResult>;

/** A sign-in (from a code or a refresh token) turned into tokens. */
export interface UserSignIn {
  readonly user: DevTenantUser;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly sessionId: string;
  readonly refreshToken: string | undefined;
}

/** The answer to a user's grant: access token, ID token with `openid`, refresh token when one was issued. */
export async function userTokenResponse(context: GrantContext, signIn: UserSignIn): Promise<TokenResponseBody> {
  const { signing, config } = context;
  const { user, clientId, scope, audience } = signIn;
  const accessToken = await signAccessToken(
    signing,
    {
      sub: user.userId,
      aud: userAccessTokenAudience(audience, signing.issuer, scope),
      azp: clientId,
      scope: scope.join(' '),
      permissions: user.permissions,
    },
    config.tokenLifetimeSeconds,
  );
  const idToken = scope.includes('openid')
    ? await signIdToken(signing, {
        user,
        clientId,
        scope,
        nonce: signIn.nonce,
        authTime: signIn.authTime,
        sessionId: signIn.sessionId,
      })
    : undefined;
  return {
    access_token: accessToken,
    ...(idToken === undefined ? {} : { id_token: idToken }),
    ...(signIn.refreshToken === undefined ? {} : { refresh_token: signIn.refreshToken }),
    scope: scope.join(' '),
    expires_in: config.tokenLifetimeSeconds,
    token_type: 'Bearer',
  };
}
