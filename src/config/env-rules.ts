import { isIP } from 'node:net';
import { z } from 'zod';

/** Field rules shared by the API's variables (config.ts) and the dev tenant's (dev-tenant/config.ts). */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname.toLowerCase())) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/** Unset, empty and blank all mean "not set" (the .env template leaves values empty). */
export const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** A whole number in [min, max]; `fallback` when unset (null for an optional setting). */
export function integer<Fallback extends number | null>(min: number, max: number, fallback: Fallback) {
  return optionalString.transform((value, ctx): number | Fallback => {
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return parsed;
  });
}

export const nonEmpty = (fallback: string) => optionalString.transform((value) => value ?? fallback);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The origin of `value`, or a problem to report: `value` must be http(s) scheme, host and port only. */
export function originProblem(value: string): { origin: string } | { problem: string } {
  const url = parseUrl(value);
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return { problem: `must be an origin like http://localhost:4040, got ${JSON.stringify(value)}` };
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { problem: `must be an origin (scheme, host, optional port) without a path, got ${JSON.stringify(value)}` };
  }
  return { origin: url.origin };
}

/**
 * A comma-separated list, each entry checked by `check` (which returns the normalised entry or a
 * problem); undefined when the variable is unset, so the caller can derive a default.
 */
export function list(check: (entry: string) => { value: string } | { problem: string }) {
  return optionalString.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const checked: string[] = [];
    for (const entry of entries) {
      const result = check(entry);
      if ('problem' in result) {
        ctx.addIssue({ code: 'custom', message: result.problem });
        return z.NEVER;
      }
      checked.push(result.value);
    }
    return checked;
  });
}

/** An absolute http(s) URL without credentials or fragment, kept exactly as written (matching is exact). */
export function absoluteUrlProblem(value: string): { value: string } | { problem: string } {
  const url = parseUrl(value);
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return { problem: `must list absolute http(s) URLs, got ${JSON.stringify(value)}` };
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    return { problem: `must list URLs without credentials or fragment, got ${JSON.stringify(value)}` };
  }
  return { value };
}
