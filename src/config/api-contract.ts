/**
 * Names the API, its tokens and the dev tenant must agree on. They live here, at the bottom of the
 * import graph, because configuration validates against them and everything above reads them.
 */

/** The permission the admin endpoint requires (Auth0 RBAC). */
export const ADMIN_PERMISSION = 'read:admin-messages';

/** Default audience without AUTH0_DOMAIN (the dev tenant): the identifier the Auth0 guides use. */
export const DEFAULT_AUDIENCE = 'https://hello-world.example.com';

/** The algorithms Auth0 signs access tokens with that this API can check. HS256 is left out on purpose. */
export const SUPPORTED_SIGNING_ALGORITHMS = ['RS256', 'PS256'] as const;
export type SigningAlgorithm = (typeof SUPPORTED_SIGNING_ALGORITHMS)[number];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SUPPORTED_SIGNING_ALGORITHMS as readonly string[]).includes(value);
}
