import { z } from 'zod';

/** Client side of the dev tenant's /oauth/token, for the token CLI and tests. */

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly audience: string;
}

export type TokenRequestEncoding = 'json' | 'form';

export interface TokenRequestOptions {
  /** The dev tenant's `signing_alg` parameter (not Auth0's): RS256 unless PS256 is asked for. */
  readonly signingAlg?: string | undefined;
  /** A DPoP proof for POST {tenantUrl}/oauth/token: the token comes back bound to its key. */
  readonly dpopProof?: string | undefined;
}

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.enum(['Bearer', 'DPoP']),
  expires_in: z.number(),
  scope: z.string(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

const ErrorBodySchema = z.object({ error: z.string(), error_description: z.string() });

/** Nothing answered at the tenant URL (not running, wrong port, timeout). */
export class TenantUnreachableError extends Error {
  override readonly name = 'TenantUnreachableError';
  readonly code = 'ERR_DEV_TENANT_UNREACHABLE';
}

/** The tenant answered with an OAuth error (or something that is not a token response). */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  readonly code = 'ERR_DEV_TENANT_TOKEN_REQUEST';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly errorDescription: string,
  ) {
    super(`The dev tenant refused the token request (${String(status)} ${error}): ${errorDescription}`);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

function encodeBody(
  credentials: ClientCredentials,
  encoding: TokenRequestEncoding,
  signingAlg: string | undefined,
): { contentType: string; body: string } {
  const fields = {
    grant_type: 'client_credentials',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    audience: credentials.audience,
    // The dev tenant's own parameter (signing-algorithms.ts); Auth0 has no such thing.
    ...(signingAlg !== undefined && { signing_alg: signingAlg }),
  };
  return encoding === 'json'
    ? { contentType: 'application/json', body: JSON.stringify(fields) }
    : { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() };
}

function causeCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * POSTs a client-credentials request; resolves to the token response or throws one of the errors
 * above. Options (dev tenant only): `signingAlg` asks for a token signed with that algorithm;
 * `dpopProof` (a proof for POST {tenantUrl}/oauth/token) makes the token DPoP-bound.
 */
export async function requestToken(
  tenantUrl: string,
  credentials: ClientCredentials,
  encoding: TokenRequestEncoding = 'json',
  options: TokenRequestOptions = {},
): Promise<TokenResponse> {
  const url = new URL('/oauth/token', tenantUrl);
  const { signingAlg, dpopProof } = options;
  const { contentType, body } = encodeBody(credentials, encoding, signingAlg);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json', ...(dpopProof !== undefined && { dpop: dpopProof }) },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    throw new TenantUnreachableError(`Cannot reach the dev tenant at ${tenantUrl} (${causeCode(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const parsed = ErrorBodySchema.safeParse(json);
    if (parsed.success) throw new TokenRequestError(response.status, parsed.data.error, parsed.data.error_description);
    throw new TokenRequestError(response.status, 'unexpected_response', `HTTP ${String(response.status)} ${text.slice(0, 200)}`);
  }
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new TokenRequestError(response.status, 'unexpected_response', `not a token response: ${text.slice(0, 200)}`);
  }
  return parsed.data;
}
