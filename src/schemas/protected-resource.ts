import { COMMON_ERROR_RESPONSES } from './errors.js';

/**
 * Route schema of GET /.well-known/oauth-protected-resource (RFC 9728 section 3.2): Fastify
 * serialises the document with it (unknown members dropped), OpenAPI reads it.
 */
const stringList = { type: 'array', items: { type: 'string' } } as const;

export const protectedResourceSchema = {
  tags: ['discovery'],
  summary: 'OAuth 2.0 Protected Resource Metadata (RFC 9728): where to get a token for this API',
  response: {
    200: {
      description: 'The metadata; every 401/403 challenge points here with `resource_metadata`',
      type: 'object',
      properties: {
        resource: { type: 'string', description: 'This API\'s identifier: its public origin' },
        authorization_servers: { ...stringList, description: 'Every trusted issuer, exactly as in the tokens\' `iss`' },
        scopes_supported: stringList,
        bearer_methods_supported: stringList,
        resource_name: { type: 'string' },
        dpop_signing_alg_values_supported: { ...stringList, description: 'Absent with DPOP=disabled' },
        dpop_bound_access_tokens_required: { type: 'boolean', description: 'true with DPOP=required; absent with DPOP=disabled' },
      },
      required: ['resource', 'authorization_servers', 'scopes_supported', 'bearer_methods_supported', 'resource_name'],
      additionalProperties: false,
    },
    ...COMMON_ERROR_RESPONSES,
  },
} as const;
