/**
 * The security schemes of the API, in one place: `SECURITY_SCHEMES` goes to OpenAPI's
 * `components.securitySchemes`, `ACCESS_TOKEN_SECURITY` to each route that needs a token (a list
 * means "any one of these"; which ones a deployment takes is the DPOP setting).
 */
export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An access token (RS256, or PS256 when AUTH0_SIGNING_ALGS lists it) from the Auth0 tenant (or the dev tenant) for AUTH0_AUDIENCE, without a cnf claim. Refused with DPOP=required.',
  },
  dpopAuth: {
    type: 'http',
    scheme: 'DPoP',
    description:
      'A DPoP-bound access token (cnf.jkt) as `Authorization: DPoP <token>`, with exactly one `DPoP` header: a fresh proof (RFC 9449) signed by the bound key for this method and URL. Refused with DPOP=disabled.',
  },
} as const;

export const ACCESS_TOKEN_SECURITY = [{ bearerAuth: [] }, { dpopAuth: [] }];
