/** The Hello World API's messages, word for word as in Auth0's samples. */
export const MESSAGES = {
  public: "The API doesn't require an access token to share this message.",
  protected: 'The API successfully validated your access token.',
  admin: 'The API successfully recognized you as an admin.',
} as const;

export type MessageKind = keyof typeof MESSAGES;

/** A 200 body of GET /api/messages/{public,protected,admin}. */
export interface MessageBody {
  readonly message: string;
  readonly text: string;
}

/**
 * The 200 body: the message twice. Auth0's Hello World APIs differ on the field: some answer
 * `{"message"}` (this API's own, and what its error bodies use), the developer hub's answer
 * `{"text"}`, and Auth0's Next.js Hello World shows `text` (an empty box otherwise). Both, so either
 * kind of client shows it.
 */
export function messageBody(kind: MessageKind): MessageBody {
  return { message: MESSAGES[kind], text: MESSAGES[kind] };
}
