/** Route schema of GET /healthz and GET /readyz. */
export const healthSchema = {
  tags: ['health'],
  response: {
    200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
    503: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  },
} as const;
