import { ACCESS_TOKEN_SECURITY } from './security.js';
import { COMMON_ERROR_RESPONSES, ERROR_RESPONSES } from './errors.js';
import { messageBodySchema } from './message.js';

/** Route schemas of GET /api/messages/{public,protected,admin}: Fastify serialises with them, OpenAPI reads them. */

const ok = (description: string) => ({ description, ...messageBodySchema });
const tags = ['messages'];

export const publicMessageSchema = {
  tags,
  summary: 'A message anyone may read',
  response: { 200: ok('The public message'), ...COMMON_ERROR_RESPONSES },
} as const;

export const protectedMessageSchema = {
  tags,
  summary: 'A message for callers with a valid access token',
  security: ACCESS_TOKEN_SECURITY,
  response: {
    200: ok('The protected message'),
    ...COMMON_ERROR_RESPONSES,
    401: ERROR_RESPONSES[401],
    429: ERROR_RESPONSES[429],
    503: ERROR_RESPONSES[503],
  },
} as const;

export const adminMessageSchema = {
  tags,
  summary: 'A message for callers whose token carries the read:admin-messages permission',
  description: 'The token is checked before its permissions: an invalid token is always 401, never 403.',
  security: ACCESS_TOKEN_SECURITY,
  response: {
    200: ok('The admin message'),
    ...COMMON_ERROR_RESPONSES,
    401: ERROR_RESPONSES[401],
    403: ERROR_RESPONSES[403],
    429: ERROR_RESPONSES[429],
    503: ERROR_RESPONSES[503],
  },
} as const;
