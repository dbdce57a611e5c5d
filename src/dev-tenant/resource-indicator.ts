import { isRecord } from '../auth/guards.js';
import type { DevTenantConfig } from './config.js';
import { parameter } from './oauth-params.js';

/**
 * The API a token is asked for: Auth0's `audience`, or RFC 8707's `resource`, which modern
 * clients (MCP clients among them) send after reading the API's RFC 9728 metadata. Both go
 * through the same checks afterwards; the API's own loopback origins (`resourceAliases`) name the
 * audience too, since that is the `resource` the API publishes by default.
 */
export type RequestedAudience =
  /** undefined when neither was sent (the caller applies its default or asks for one). */
  | { readonly ok: true; readonly audience: string | undefined }
  | { readonly ok: false; readonly description: string };

export function requestedAudience(source: unknown, config: Pick<DevTenantConfig, 'audience' | 'resourceAliases'>): RequestedAudience {
  // RFC 8707 allows several `resource` values; the dev tenant has one API, so one is all it can grant.
  if (isRecord(source) && Array.isArray(source['resource'])) {
    return { ok: false, description: 'Send one resource: the dev tenant has one API' };
  }
  const audience = parameter(source, 'audience');
  const asked = parameter(source, 'resource');
  const resource = asked !== undefined && config.resourceAliases.includes(asked.replace(/\/$/, '')) ? config.audience : asked;
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    return { ok: false, description: `audience (${audience}) and resource (${asked ?? ''}) name different APIs; send one of them` };
  }
  return { ok: true, audience: audience ?? resource };
}
