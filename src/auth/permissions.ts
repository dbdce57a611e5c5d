import type { JWTPayload } from 'jose';

export { ADMIN_PERMISSION } from '../config/api-contract.js';

/**
 * True only when the `permissions` claim (Auth0 RBAC) is an array of strings that contains
 * `permission` exactly. A missing claim, a string, nested arrays, non-string members, other case or
 * a substring all mean "no": a malformed claim must never widen access, nor crash the request.
 */
export function hasPermission(claims: JWTPayload, permission: string): boolean {
  const granted: unknown = claims['permissions'];
  if (!Array.isArray(granted)) return false;
  let found = false;
  for (const entry of granted as unknown[]) {
    if (typeof entry !== 'string') return false;
    if (entry === permission) found = true;
  }
  return found;
}
