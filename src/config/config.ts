import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Everything the process can be configured with, validated once at start.
 * `parseConfig` is pure (environment in, config out) so every rule is unit-tested;
 * `src/config/env-file.ts` is the only place that touches `.env` and `process.env`.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The permission the admin endpoint requires (Auth0 RBAC). */
export const ADMIN_PERMISSION = 'read:admin-messages';

/** Default audience of the dev tenant: the identifier the Auth0 guides use. */
export const DEFAULT_AUDIENCE = 'https://hello-world.example.com';

export interface AuthConfig {
  /** Expected `iss`: the tenant's origin with a trailing slash, exactly as Auth0 writes it. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
}

export interface TokenCacheConfig {
  /** 0 turns the verified-token cache off. */
  readonly maxEntries: number;
  /** Upper bound on how long a verified token is trusted without re-verifying its signature. */
  readonly maxAgeSeconds: number;
}

export interface DevTenantClient {
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Permissions put in the `permissions` claim of this client's tokens. */
  readonly permissions: readonly string[];
}

export interface DevTenantConfig {
  /** Always a loopback address: the dev tenant must never be reachable from outside. */
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly keysDir: string;
  readonly audience: string;
  readonly tokenLifetimeSeconds: number;
  readonly clients: readonly DevTenantClient[];
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly workers: number;
  /** Port of the Prometheus scrape endpoint (on `host`); null turns metrics off. */
  readonly metricsPort: number | null;
  readonly clientOriginUrl: string;
  readonly auth: AuthConfig;
  readonly tokenCache: TokenCacheConfig;
  /** Set when no AUTH0_DOMAIN is configured: the API then trusts the embedded dev tenant. */
  readonly devTenant: DevTenantConfig | null;
}

/** Invalid configuration: `message` is one line naming the variable and the problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname.toLowerCase())) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

// An Auth0 client ID is 32 letters and digits; people paste it where the API identifier belongs.
const AUTH0_CLIENT_ID = /^[A-Za-z0-9]{32}$/;

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** A whole number in [min, max]; `fallback` when unset (null for an optional setting). */
function integer<Fallback extends number | null>(min: number, max: number, fallback: Fallback) {
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

/** Accepts `tenant.region.auth0.com` or `https://tenant.region.auth0.com/`; returns the origin. */
const auth0Domain = optionalString.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let url: URL;
  try {
    url = new URL(hasScheme ? value : `https://${value}`);
  } catch {
    return fail(`must be a host name like tenant.us.auth0.com, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return fail(`must use https://, got ${JSON.stringify(url.protocol)}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return fail('may use plain http:// only for a loopback host (localhost, 127.0.0.1, ::1); use https://');
  }
  if (url.username !== '' || url.password !== '') return fail('must not contain credentials');
  if (url.pathname !== '/') return fail(`must be a host name without a path, got path "${url.pathname}"`);
  if (url.search !== '' || url.hash !== '') return fail('must not contain a query or a fragment');
  return url.origin;
});

const audience = optionalString.refine((value) => value === undefined || !/\s/.test(value), {
  error: 'must not contain white space',
}).refine((value) => value === undefined || !AUTH0_CLIENT_ID.test(value), {
  error:
    'looks like an Auth0 client ID; use the API Identifier from the API settings (e.g. https://hello-world.example.com)',
});

const clientOrigin = optionalString.transform((value, ctx) => {
  if (value === undefined) return 'http://localhost:4040';
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', message: `must be an origin like http://localhost:4040, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    ctx.addIssue({
      code: 'custom',
      message: `must be an origin (scheme, host, optional port) without a path, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return url.origin;
});

const nonEmpty = (fallback: string) =>
  optionalString.transform((value) => value ?? fallback);

const EnvSchema = z.object({
  NODE_ENV: optionalString,
  HOST: nonEmpty('localhost'),
  PORT: integer(0, 65535, 6060),
  LOG_LEVEL: optionalString.transform((value, ctx) => {
    const level = (value ?? 'info').toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value ?? '')}` });
      return z.NEVER;
    }
    return level as LogLevel;
  }),
  WEB_CONCURRENCY: integer(1, 64, 1),
  // Unset: no metrics (no scrape port, no metrics hooks on the request path).
  METRICS_PORT: integer(1, 65535, null),
  CLIENT_ORIGIN_URL: clientOrigin,
  AUTH0_DOMAIN: auth0Domain,
  AUTH0_AUDIENCE: audience,
  TOKEN_CACHE_MAX_ENTRIES: integer(0, 1_000_000, 10_000),
  TOKEN_CACHE_MAX_AGE_SECONDS: integer(0, 86_400, 300),
  DEV_TENANT_PORT: integer(1, 65535, 6061),
  DEV_TENANT_KEYS_DIR: nonEmpty('.dev-tenant'),
  DEV_TENANT_TOKEN_LIFETIME_SECONDS: integer(60, 2_592_000, 86_400),
  DEV_TENANT_CLIENT_ID: nonEmpty('hello-world-client'),
  DEV_TENANT_CLIENT_SECRET: nonEmpty('hello-world-client-secret'),
  DEV_TENANT_ADMIN_CLIENT_ID: nonEmpty('hello-world-admin-client'),
  DEV_TENANT_ADMIN_CLIENT_SECRET: nonEmpty('hello-world-admin-client-secret'),
});

type Env = Readonly<Record<string, string | undefined>>;

/** Clock skew tolerated on `exp`/`nbf`/`iat`; Auth0's own SDKs use 5 s. */
export const CLOCK_TOLERANCE_SECONDS = 5;

export function authConfigFor(origin: string, audience: string): AuthConfig {
  return {
    issuer: `${origin}/`,
    jwksUri: `${origin}/.well-known/jwks.json`,
    audience,
    clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  };
}

/**
 * Validates the environment. Throws a ConfigError whose message is one line such as
 * `AUTH0_DOMAIN must be a host name without a path, got path "/oauth/token"`.
 */
export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const vars = result.data;

  let devTenant: DevTenantConfig | null = null;
  let origin: string;
  let apiAudience: string;
  if (vars.AUTH0_DOMAIN !== undefined) {
    if (vars.AUTH0_AUDIENCE === undefined) {
      throw new ConfigError(
        'Invalid configuration: AUTH0_AUDIENCE is required when AUTH0_DOMAIN is set (the API Identifier from the Auth0 dashboard)',
      );
    }
    origin = vars.AUTH0_DOMAIN;
    apiAudience = vars.AUTH0_AUDIENCE;
  } else {
    if (vars.NODE_ENV?.toLowerCase() === 'production') {
      throw new ConfigError(
        'Invalid configuration: AUTH0_DOMAIN is required when NODE_ENV=production (the embedded dev tenant is for local use only)',
      );
    }
    apiAudience = vars.AUTH0_AUDIENCE ?? DEFAULT_AUDIENCE;
    const host = '127.0.0.1';
    origin = `http://${host}:${vars.DEV_TENANT_PORT}`;
    devTenant = {
      host,
      port: vars.DEV_TENANT_PORT,
      url: origin,
      keysDir: resolve(cwd, vars.DEV_TENANT_KEYS_DIR),
      audience: apiAudience,
      tokenLifetimeSeconds: vars.DEV_TENANT_TOKEN_LIFETIME_SECONDS,
      clients: [
        {
          name: 'Hello World Client',
          clientId: vars.DEV_TENANT_CLIENT_ID,
          clientSecret: vars.DEV_TENANT_CLIENT_SECRET,
          permissions: [],
        },
        {
          name: 'Hello World Admin Client',
          clientId: vars.DEV_TENANT_ADMIN_CLIENT_ID,
          clientSecret: vars.DEV_TENANT_ADMIN_CLIENT_SECRET,
          permissions: [ADMIN_PERMISSION],
        },
      ],
    };
    if (vars.PORT === vars.DEV_TENANT_PORT) {
      throw new ConfigError(`Invalid configuration: DEV_TENANT_PORT must differ from PORT (both are ${vars.PORT})`);
    }
    if (vars.METRICS_PORT === vars.DEV_TENANT_PORT) {
      throw new ConfigError(`Invalid configuration: METRICS_PORT must differ from DEV_TENANT_PORT (both are ${vars.METRICS_PORT})`);
    }
    if (devTenant.clients[0]?.clientId === devTenant.clients[1]?.clientId) {
      throw new ConfigError(
        'Invalid configuration: DEV_TENANT_ADMIN_CLIENT_ID must differ from DEV_TENANT_CLIENT_ID',
      );
    }
  }

  if (vars.METRICS_PORT === vars.PORT) {
    throw new ConfigError(`Invalid configuration: METRICS_PORT must differ from PORT (both are ${vars.PORT})`);
  }

  return {
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    workers: vars.WEB_CONCURRENCY,
    metricsPort: vars.METRICS_PORT,
    clientOriginUrl: vars.CLIENT_ORIGIN_URL,
    auth: authConfigFor(origin, apiAudience),
    tokenCache: { maxEntries: vars.TOKEN_CACHE_MAX_ENTRIES, maxAgeSeconds: vars.TOKEN_CACHE_MAX_AGE_SECONDS },
    devTenant,
  };
}
