import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { isLoopbackHost, integer, nonEmpty, optionalString, originProblem } from './env-rules.js';
import {
  DEFAULT_AUDIENCE,
  type DevTenantConfig,
  DevTenantEnvSchema,
  devTenantConfigFrom,
} from '../dev-tenant/config.js';

export { ADMIN_PERMISSION } from '../auth/permissions.js';
export { ConfigError } from './config-error.js';
export { DEFAULT_AUDIENCE } from '../dev-tenant/config.js';

/**
 * Everything the process can be configured with, validated once at start.
 * `parseConfig` is pure (environment in, config out) so every rule is unit-tested;
 * `src/config/env-file.ts` is the only place that touches `.env` and `process.env`.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly workers: number;
  readonly clientOriginUrl: string;
  readonly auth: AuthConfig;
  readonly tokenCache: TokenCacheConfig;
  /** Set when no AUTH0_DOMAIN is configured: the API then trusts the embedded dev tenant. */
  readonly devTenant: DevTenantConfig | null;
}

// An Auth0 client ID is 32 letters and digits; people paste it where the API identifier belongs.
const AUTH0_CLIENT_ID = /^[A-Za-z0-9]{32}$/;

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
  const result = originProblem(value);
  if ('problem' in result) {
    ctx.addIssue({ code: 'custom', message: result.problem });
    return z.NEVER;
  }
  return result.origin;
});

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
  CLIENT_ORIGIN_URL: clientOrigin,
  AUTH0_DOMAIN: auth0Domain,
  AUTH0_AUDIENCE: audience,
  TOKEN_CACHE_MAX_ENTRIES: integer(0, 1_000_000, 10_000),
  TOKEN_CACHE_MAX_AGE_SECONDS: integer(0, 86_400, 300),
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
  // Both sets are checked even with AUTH0_DOMAIN set, so a typo in a DEV_TENANT_ variable is never silent.
  const result = EnvSchema.safeParse(env);
  const devResult = DevTenantEnvSchema.safeParse(env);
  if (!result.success || !devResult.success) {
    const issues = [...(result.error?.issues ?? []), ...(devResult.error?.issues ?? [])];
    const problems = issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
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
    devTenant = devTenantConfigFrom(
      devResult.data,
      { port: vars.PORT, clientOriginUrl: vars.CLIENT_ORIGIN_URL, audience: apiAudience },
      cwd,
    );
    origin = devTenant.url;
  }

  return {
    host: vars.HOST,
    port: vars.PORT,
    logLevel: vars.LOG_LEVEL,
    workers: vars.WEB_CONCURRENCY,
    clientOriginUrl: vars.CLIENT_ORIGIN_URL,
    auth: authConfigFor(origin, apiAudience),
    tokenCache: { maxEntries: vars.TOKEN_CACHE_MAX_ENTRIES, maxAgeSeconds: vars.TOKEN_CACHE_MAX_AGE_SECONDS },
    devTenant,
  };
}
