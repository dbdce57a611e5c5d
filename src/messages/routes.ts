import type { FastifyPluginAsync } from 'fastify';
import { authorize } from '../auth/authorize.js';
import type { Authenticator } from '../auth/authenticate.js';
import { ADMIN_PERMISSION } from '../auth/permissions.js';
import { adminMessageSchema, protectedMessageSchema, publicMessageSchema } from '../schemas/messages.js';
import { messageBody } from './messages.js';

export interface MessageRoutesOptions {
  readonly authenticator: Authenticator;
}

/** GET /api/messages/{public,protected,admin}. Who may call each is declared here, per route. */
export const messageRoutes: FastifyPluginAsync<MessageRoutesOptions> = async (app, { authenticator }) => {
  const publicBody = messageBody('public');
  const protectedBody = messageBody('protected');
  const adminBody = messageBody('admin');

  app.get('/public', { schema: publicMessageSchema }, () => publicBody);
  app.get('/protected', { schema: protectedMessageSchema, onRequest: authorize(authenticator) }, () => protectedBody);
  app.get('/admin', { schema: adminMessageSchema, onRequest: authorize(authenticator, ADMIN_PERMISSION) }, () => adminBody);
  return Promise.resolve();
};
