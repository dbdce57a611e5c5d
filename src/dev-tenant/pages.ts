import { randomBytes } from 'node:crypto';
import type { DevTenantUser } from './config.js';

/**
 * The tenant's HTML: plain pages, no framework, no script except the one-line postMessage of
 * silent authentication (allowed by a per-response CSP nonce). Every value is escaped.
 */

export interface Page {
  readonly html: string;
  /** The Content-Security-Policy that goes with this page. */
  readonly csp: string;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1e212a}' +
  'button{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem;border:1px solid #635dff;' +
  'border-radius:6px;background:#fff;cursor:pointer;text-align:left}button:hover{background:#f0efff}' +
  'small{color:#65676e}.warn{background:#fff4e5;padding:.5rem;border-radius:6px}';

interface Policy {
  readonly scriptNonce?: string;
  /** Who may frame the page: nobody but the web_message target. */
  readonly frameAncestors?: string;
  /** Where the login form may end up: Chromium applies form-action to the redirect after the POST too. */
  readonly formTargets?: string;
}

function document(title: string, body: string, styleNonce: string, policy: Policy = {}): Page {
  const { scriptNonce, frameAncestors = "'none'", formTargets = '' } = policy;
  const scripts = scriptNonce === undefined ? '' : ` script-src 'nonce-${scriptNonce}';`;
  const forms = `'self'${formTargets === '' ? '' : ` ${formTargets}`}`;
  return {
    html:
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
      `<meta name="viewport" content="width=device-width,initial-scale=1"><style nonce="${styleNonce}">${STYLE}</style></head>` +
      `<body>${body}</body></html>`,
    csp: `default-src 'none'; style-src 'nonce-${styleNonce}'; img-src data:;${scripts} form-action ${forms}; frame-ancestors ${frameAncestors}; base-uri 'none'`,
  };
}

const nonce = () => randomBytes(16).toString('base64');

/**
 * One form per user; the visible text names the user's email and permissions. `callbackOrigin` is
 * where the form's answer redirects (the app's callback).
 */
export function loginPage(input: {
  users: readonly DevTenantUser[];
  transaction: string;
  signup: boolean;
  callbackOrigin: string;
}): Page {
  const heading = input.signup ? 'Sign up' : 'Log in';
  const buttons = input.users.map((user) => {
    const permissions = user.permissions.length > 0 ? user.permissions.join(', ') : 'no permissions';
    return (
      `<form method="post" action="/u/login"><input type="hidden" name="state" value="${escapeHtml(input.transaction)}">` +
      `<button type="submit" name="user" value="${escapeHtml(user.userId)}">Continue as <strong>${escapeHtml(user.email)}</strong>` +
      `<br><small>${escapeHtml(permissions)}</small></button></form>`
    );
  });
  return document(
    `${heading} - dev tenant`,
    `<h1>${heading}</h1><p class="warn">Local dev tenant: pick a user, no password. Never use it in production.</p>` +
      buttons.join(''),
    nonce(),
    { formTargets: input.callbackOrigin },
  );
}

export function errorPage(message: string): Page {
  return document('Error - dev tenant', `<h1>Something went wrong</h1><p>${escapeHtml(message)}</p>`, nonce());
}

export function signedOutPage(): Page {
  return document('Signed out - dev tenant', '<h1>You are signed out</h1><p>You can close this page.</p>', nonce());
}

/** What the SPA SDK's iframe listener expects (`type: 'authorization_response'`). */
export type WebMessageResponse =
  | { readonly code: string; readonly state: string | undefined }
  | { readonly error: string; readonly error_description: string; readonly state: string | undefined };

/** JSON that stays JSON inside a <script>: no `</script>`, no `<!--`, no U+2028/9 line breaks. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/**
 * Silent authentication's answer: posts the result to the parent window at `targetOrigin` (an
 * allowed web origin, never `*`), and may be framed only by that origin.
 */
export function webMessagePage(targetOrigin: string, response: WebMessageResponse): Page {
  const scriptNonce = nonce();
  const message = { type: 'authorization_response', response };
  const script =
    `<script nonce="${scriptNonce}">(window.opener||window.parent).postMessage(${scriptJson(message)},${scriptJson(targetOrigin)});</script>`;
  return document('Authorization response', script, nonce(), { scriptNonce, frameAncestors: targetOrigin });
}
