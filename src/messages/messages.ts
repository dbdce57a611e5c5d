/** The Hello World API's messages, word for word as in Auth0's samples. */
export const MESSAGES = {
  public: "The API doesn't require an access token to share this message.",
  protected: 'The API successfully validated your access token.',
  admin: 'The API successfully recognized you as an admin.',
} as const;
