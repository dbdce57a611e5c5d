import { z } from 'zod';
import { SUPPORTED_SIGNING_ALGORITHMS, type SigningAlgorithm, isSigningAlgorithm } from './api-contract.js';
import { isLoopbackHost, optionalString } from './env-rules.js';

/** The rules of the Auth0 variables (AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_SIGNING_ALGS), as config.ts's EnvSchema uses them. */

/** Auth0's Multiple Custom Domains allows 20 per tenant; the API trusts at most that many issuers. */
export const MAX_ISSUERS = 20;

// An Auth0 client ID is 32 letters and digits; people paste it where the API identifier belongs.
const AUTH0_CLIENT_ID = /^[A-Za-z0-9]{32}$/;

/**
 * One domain, `tenant.region.auth0.com` or `https://login.example.com/`, normalised as Auth0's SDK
 * does (host lower-cased, default port dropped); returns the origin, or a problem in words.
 */
function domainOrigin(value: string): { readonly origin: string } | { readonly problem: string } {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let url: URL;
  try {
    url = new URL(hasScheme ? value : `https://${value}`);
  } catch {
    return { problem: `must be a host name like tenant.us.auth0.com, got ${JSON.stringify(value)}` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { problem: `must use https://, got ${JSON.stringify(url.protocol)}` };
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return { problem: 'may use plain http:// only for a loopback host (localhost, 127.0.0.1, ::1); use https://' };
  }
  if (url.username !== '' || url.password !== '') return { problem: 'must not contain credentials' };
  if (url.pathname !== '/') return { problem: `must be a host name without a path, got path "${url.pathname}"` };
  // A bare "?" or "#" leaves search and hash empty; the raw text still shows it.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) return { problem: 'must not contain a query or a fragment' };
  return { origin: url.origin };
}

/** A comma-separated list of domains; returns their origins, in order. */
export const auth0Domains = optionalString.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.includes('')) return fail('has an empty entry (two commas in a row, or one at the start or end)');
  if (entries.length > MAX_ISSUERS) return fail(`lists ${entries.length} domains; at most ${MAX_ISSUERS} are allowed`);
  const origins: string[] = [];
  for (const entry of entries) {
    const result = domainOrigin(entry);
    if ('problem' in result) return fail(entries.length > 1 ? `entry ${JSON.stringify(entry)} ${result.problem}` : result.problem);
    if (origins.includes(result.origin)) return fail(`lists ${result.origin} more than once`);
    origins.push(result.origin);
  }
  return origins;
});

/** AUTH0_SIGNING_ALGS: RS256 by default; PS256 may be added. Symmetric algorithms are refused. */
export const signingAlgorithms = optionalString.transform((value, ctx): SigningAlgorithm[] => {
  if (value === undefined) return ['RS256'];
  const algorithms: SigningAlgorithm[] = [];
  for (const entry of value.split(',').map((item) => item.trim())) {
    if (/^HS\d+$/i.test(entry)) {
      ctx.addIssue({
        code: 'custom',
        message: `must not list ${entry}: a shared secret beside a public key set invites key confusion; use RS256 or PS256`,
      });
      return z.NEVER;
    }
    if (!isSigningAlgorithm(entry)) {
      ctx.addIssue({
        code: 'custom',
        message: `must list only ${SUPPORTED_SIGNING_ALGORITHMS.join(' or ')} (comma-separated), got ${JSON.stringify(entry)}`,
      });
      return z.NEVER;
    }
    if (!algorithms.includes(entry)) algorithms.push(entry);
  }
  return algorithms;
});

export const audience = optionalString.refine((value) => value === undefined || !/\s/.test(value), {
  error: 'must not contain white space',
}).refine((value) => value === undefined || !AUTH0_CLIENT_ID.test(value), {
  error:
    'looks like an Auth0 client ID; use the API Identifier from the API settings (e.g. https://hello-world.example.com)',
});
