import { REALM } from '../errors/http-errors.js';
import { messageSchema } from './message.js';

/**
 * The error answers as OpenAPI sees them: the `{"message"}` body and the headers each status
 * carries (src/errors/http-errors.ts sets them). Route schemas list the ones their route can give;
 * src/http/openapi.ts also publishes the whole set under `components.responses`.
 */

function errorResponse(description: string, headers: Record<string, { description: string }> = {}) {
  return {
    description,
    ...messageSchema,
    ...(Object.keys(headers).length > 0 && {
      headers: Object.fromEntries(Object.entries(headers).map(([name, header]) => [name, { type: 'string', ...header }])),
    }),
  };
}

const closesConnection = { Connection: { description: '`close`: the connection is closed after the answer' } };

export const ERROR_RESPONSES = {
  400: errorResponse(
    'Malformed Authorization header (no token, extra parts, characters no token has), more than one Authorization header, a request body (these routes take none), or malformed HTTP',
    {
      'WWW-Authenticate': {
        description: `For a malformed Authorization or DPoP header: \`Bearer realm="${REALM}", error="invalid_request"\` (or the same on the \`DPoP\` challenge), plus the other scheme's bare challenge; each ends with \`resource_metadata\` as on 401`,
      },
      ...closesConnection,
    },
  ),
  401: errorResponse(
    'No access token (`Requires authentication`), a bad, expired or foreign one, a bound token sent as Bearer (`Bad credentials`), a bad or replayed DPoP proof, or a DPoP nonce to use',
    {
      'WWW-Authenticate': {
        description:
          `One challenge per scheme the DPOP mode takes: \`Bearer realm="${REALM}"\` and \`DPoP realm="${REALM}", algs="..."\`; ` +
          'the one concerned carries `error="invalid_token"`, `error="invalid_dpop_proof"` or `error="use_dpop_nonce"` (RFC 6750 section 3, RFC 9449 section 7.1); ' +
          'each ends with `resource_metadata="<API origin>/.well-known/oauth-protected-resource"` (RFC 9728 section 5.1)',
      },
      'DPoP-Nonce': { description: 'With `error="use_dpop_nonce"`: the nonce the next proof must carry' },
    },
  ),
  403: errorResponse('A valid token without the permission the route needs (`Permission denied`)', {
    'WWW-Authenticate': {
      description: `\`Bearer realm="${REALM}", error="insufficient_scope", scope="<permission>", resource_metadata="..."\` (on the \`DPoP\` challenge for a DPoP request)`,
    },
  }),
  404: errorResponse('No such route (`Not Found`)'),
  405: errorResponse('A known path with another method than GET or HEAD (`Method Not Allowed`)', {
    Allow: { description: '`GET, HEAD`' },
  }),
  408: errorResponse('The request was not received within 10 s (`Request Timeout`)', closesConnection),
  429: errorResponse('One DPoP key already holds its whole share of the replay store (`DPOP_REPLAY_MAX_PER_KEY` live proofs)', {
    'Retry-After': { description: 'Seconds until the key\'s oldest proof lapses and a new one is taken' },
  }),
  431: errorResponse('Request headers over 16 KiB (`Request Header Fields Too Large`)', closesConnection),
  500: errorResponse('Anything unexpected (`Internal Server Error`); details go to the log only'),
  503: errorResponse('The signing keys needed to check access tokens, or the DPoP replay store, cannot be reached right now', {
    'Retry-After': { description: 'Seconds to wait before trying again' },
  }),
} as const;

/** What every route can answer whatever it does: Node's parser refusals and the unexpected. */
export const COMMON_ERROR_RESPONSES = {
  400: ERROR_RESPONSES[400],
  408: ERROR_RESPONSES[408],
  431: ERROR_RESPONSES[431],
  500: ERROR_RESPONSES[500],
} as const;
