import type { FastifyPluginAsync } from 'fastify';
import { authorize } from '../auth/authorize.js';
import type { Authenticator } from '../auth/authenticate.js';
import { ADMIN_PERMISSION } from '../config/config.js';
import { messageSchema } from '../schemas/message.js';
import { MESSAGES } from './messages.js';

export interface MessageRoutesOptions {
  readonly authenticator: Authenticator;
}

const schema = { response: { 200: messageSchema } };

/** GET /api/messages/{public,protected,admin}. Who may call each is declared here, per route. */
export const messageRoutes: FastifyPluginAsync<MessageRoutesOptions> = async (app, { authenticator }) => {
  const publicBody = { message: MESSAGES.public };
  const protectedBody = { message: MESSAGES.protected };
  const adminBody = { message: MESSAGES.admin };

  app.get('/public', { schema }, () => publicBody);
  app.get('/protected', { schema, onRequest: authorize(authenticator) }, () => protectedBody);
  app.get('/admin', { schema, onRequest: authorize(authenticator, ADMIN_PERMISSION) }, () => adminBody);
  return Promise.resolve();
};
