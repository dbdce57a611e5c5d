/**
 * The security schemes of the API, in one place: `SECURITY_SCHEMES` goes to OpenAPI's
 * `components.securitySchemes`, `ACCESS_TOKEN_SECURITY` to each route that needs a token.
 * DPoP (issue 8) adds its scheme here, e.g. `dpop: { type: 'http', scheme: 'DPoP' }`, and an
 * alternative `{ dpop: [] }` to ACCESS_TOKEN_SECURITY (a list means "any one of these").
 */
export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An RS256 access token from the Auth0 tenant (or the dev tenant) for AUTH0_AUDIENCE',
  },
} as const;

export const ACCESS_TOKEN_SECURITY = [{ bearerAuth: [] }];
