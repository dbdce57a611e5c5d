/** JSON Schema of every response body in this API: `{"message": "..."}` and nothing else. */
export const messageSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
} as const;
