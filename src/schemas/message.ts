/** JSON Schema of every error body in this API: `{"message": "..."}` and nothing else. */
export const messageSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
} as const;

/**
 * JSON Schema of the 200 bodies of /api/messages/*: the message in `message` and again in `text`,
 * the field Auth0's developer hub samples read (src/messages/messages.ts).
 */
export const messageBodySchema = {
  type: 'object',
  properties: { message: { type: 'string' }, text: { type: 'string' } },
  required: ['message', 'text'],
  additionalProperties: false,
} as const;
