import type { FastifyPluginAsync } from 'fastify';
import { DPOP_ALGORITHMS } from '../auth/dpop-proof.js';
import { ADMIN_PERMISSION } from '../auth/permissions.js';
import type { Config } from '../config/config.js';
import { protectedResourceSchema } from '../schemas/protected-resource.js';

/** Where RFC 9728 puts the metadata of a resource whose identifier has no path. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

export interface ProtectedResource {
  /**
   * The resource identifier: the API's public origin, the first of API_ORIGIN, else
   * http://localhost:PORT (the same origins a DPoP proof's htu may name). Not AUTH0_AUDIENCE: a
   * client checks that `resource` is the URL it called (RFC 9728 section 3.3), and asks for a token
   * with `resource=` that value (RFC 8707), which Auth0 reads as the audience: set the API's
   * identifier in Auth0 to its public URL for such clients.
   */
  readonly resource: string;
  /** `<resource>/.well-known/oauth-protected-resource`, named by `resource_metadata` in every challenge. */
  readonly metadataUrl: string;
  /** The metadata document, serialised once at start. */
  readonly document: string;
}

/** The API's Protected Resource Metadata (RFC 9728 section 2) for this configuration. */
export function protectedResourceFor(config: Pick<Config, 'auth' | 'dpop'>): ProtectedResource {
  const resource = config.dpop.origins[0];
  if (resource === undefined) throw new Error('the DPoP config always names at least one origin');
  const dpop = config.dpop.mode === 'disabled'
    ? {}
    : {
        dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
        dpop_bound_access_tokens_required: config.dpop.mode === 'required',
      };
  const document = {
    resource,
    // Exactly the `iss` values trusted (trailing slash included), as each issuer's discovery names itself.
    authorization_servers: config.auth.issuers.map(({ issuer }) => issuer),
    scopes_supported: [ADMIN_PERMISSION],
    bearer_methods_supported: ['header'],
    resource_name: 'Hello World API',
    ...dpop,
  };
  return { resource, metadataUrl: `${resource}${PROTECTED_RESOURCE_PATH}`, document: JSON.stringify(document) };
}

export interface ProtectedResourceRoutesOptions {
  readonly metadata: ProtectedResource;
}

/**
 * GET /.well-known/oauth-protected-resource. Public data: any origin may read it (`*`, never with
 * credentials), unlike the messages, which CORS opens to CLIENT_ORIGIN_URL only; a browser reads it
 * with a simple GET, no preflight. The security headers apply as on every answer.
 */
export const protectedResourceRoutes: FastifyPluginAsync<ProtectedResourceRoutesOptions> = async (app, { metadata }) => {
  app.get(PROTECTED_RESOURCE_PATH, { schema: protectedResourceSchema }, (_request, reply) =>
    reply.type('application/json; charset=utf-8').header('access-control-allow-origin', '*').send(metadata.document),
  );
  return Promise.resolve();
};
