import type { FastifyPluginAsync } from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parseAuthorization } from '../../auth/authorization-header.js';
import type { DevTenantConfig } from '../config.js';
import { scopeList } from '../oauth-params.js';
import type { TenantSigningKeys } from '../signing-algorithms.js';
import { profileClaims } from '../tokens.js';
import { USERINFO_PATH } from './discovery.js';
import { noStore } from './replies.js';

export interface UserinfoRoutesOptions {
  readonly config: DevTenantConfig;
  readonly issuer: () => string;
  readonly keys: TenantSigningKeys;
}

/**
 * GET /userinfo with a user's access token that was granted `openid` (its `aud` then names this
 * endpoint): the profile claims its scopes allow.
 */
export const userinfoRoutes: FastifyPluginAsync<UserinfoRoutesOptions> = async (app, { config, issuer, keys }) => {
  app.get(USERINFO_PATH, async (request, reply) => {
    noStore(reply);
    const refuse = (description: string) =>
      reply
        .code(401)
        .header('www-authenticate', `Bearer error="invalid_token", error_description="${description}"`)
        .send({ error: 'invalid_token', error_description: description });
    let presented;
    try {
      presented = parseAuthorization(request.headers.authorization);
    } catch {
      return refuse('An access token is required');
    }
    // The dev tenant checks no DPoP proofs here: only Bearer, and a bound token is refused below.
    if (presented.scheme !== 'bearer') return refuse('An access token is required');
    const { token } = presented;
    let payload;
    try {
      const jwks = createLocalJWKSet({ keys: await keys.published(new Date()) });
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: issuer(),
        audience: `${issuer()}userinfo`,
        algorithms: [...keys.algorithms],
        typ: 'JWT',
      }));
    } catch {
      return refuse('The access token is invalid or expired');
    }
    if (payload['cnf'] !== undefined) return refuse('A DPoP-bound access token needs a DPoP proof, which this dev endpoint does not check');
    const scope = scopeList(typeof payload.scope === 'string' ? payload.scope : undefined);
    const user = config.users.find((candidate) => candidate.userId === payload.sub);
    if (!scope.includes('openid') || user === undefined) return refuse('The access token was not granted openid');
    return { sub: user.userId, ...profileClaims(user, scope) };
  });
  return Promise.resolve();
};
