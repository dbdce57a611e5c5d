import type { FastifyReply } from 'fastify';
import { type AuthorizationRequest, callbackOrigin, type ErrorDestination } from '../authorization-request.js';
import type { AuthorizationCodeStore } from '../code-store.js';
import { webMessagePage } from '../pages.js';
import type { Session } from '../sessions.js';
import { sendPage } from './replies.js';

/**
 * How /authorize and the login page answer the app: a 302 to the callback with the parameters in
 * the query (`response_mode=query`), or a page that posts them to the callback's origin
 * (`web_message`). `state` is added exactly as received.
 */
export function sendAuthorizationResponse(
  reply: FastifyReply,
  destination: ErrorDestination,
  result: { readonly code: string } | { readonly error: string; readonly error_description: string },
): FastifyReply {
  const { redirectUri, responseMode, state } = destination;
  if (responseMode === 'web_message') {
    return sendPage(reply, 200, webMessagePage(callbackOrigin(redirectUri), { ...result, state }));
  }
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(result)) url.searchParams.set(name, value);
  if (state !== undefined) url.searchParams.set('state', state);
  return reply.header('cache-control', 'no-store').redirect(url.href, 302);
}

/** Completes a sign-in: a fresh code bound to the request, sent to the callback. */
export function sendCode(
  reply: FastifyReply,
  codes: AuthorizationCodeStore,
  request: AuthorizationRequest,
  session: Session,
  nowSeconds: number,
): FastifyReply {
  const code = codes.issue(
    {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      userId: session.userId,
      sessionId: session.id,
      authTime: session.authTime,
      scope: request.scope,
      audience: request.audience,
      nonce: request.nonce,
    },
    nowSeconds,
  );
  return sendAuthorizationResponse(reply, request, { code });
}
