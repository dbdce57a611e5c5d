import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { isLoopbackHost, optionalString } from './env-rules.js';

/**
 * ALLOW_LOOPBACK_ISSUER: `true` lets NODE_ENV=production trust an issuer on a loopback host
 * (localhost, 127.0.0.0/8, [::1]), plain http included: a production build tested against a local
 * dev tenant. Default `false`. Read only with NODE_ENV=production; outside it loopback is always allowed.
 */
export const allowLoopbackIssuer = optionalString.transform((value, ctx): boolean => {
  const chosen = (value ?? 'false').toLowerCase();
  if (chosen !== 'true' && chosen !== 'false') {
    ctx.addIssue({ code: 'custom', message: `must be true or false, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return chosen === 'true';
});

/**
 * Production trusts only https issuers on a real host. A loopback issuer in production is either a
 * mistake (a .env copied from development) or an attack surface: anyone who can run the dev tenant's
 * public default keys on that port mints admin tokens the API would accept (issue 16, W7).
 * Plain http on a non-loopback host is refused in every mode, by AUTH0_DOMAIN's own rule.
 * Throws a one-line ConfigError naming AUTH0_DOMAIN and the setting that allows it.
 */
export function checkProductionIssuers(origins: readonly string[], allowLoopback: boolean): void {
  if (allowLoopback) return;
  for (const origin of origins) {
    const url = new URL(origin);
    if (!isLoopbackHost(url.hostname)) continue;
    const what = url.protocol === 'https:' ? 'is a loopback issuer' : 'is not an https issuer (plain http on loopback)';
    throw new ConfigError(
      `Invalid configuration: AUTH0_DOMAIN ${origin} ${what}; NODE_ENV=production trusts only https issuers on a public host ` +
        '(set ALLOW_LOOPBACK_ISSUER=true only to test a production build against a local dev tenant)',
    );
  }
}
