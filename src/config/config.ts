import { z } from 'zod';
import { DEFAULT_AUDIENCE, type SigningAlgorithm } from './api-contract.js';
import { ConfigError } from './config-error.js';
import { type DpopConfig, DpopEnvSchema, dpopConfigFrom } from './dpop-config.js';
import { integer, nonEmpty, optionalString, originProblem } from './env-rules.js';
import { audience, auth0Domains, signingAlgorithms } from './auth0-variables.js';
import { allowLoopbackIssuer, checkProductionIssuers } from './production-issuers.js';

export { ADMIN_PERMISSION, DEFAULT_AUDIENCE } from './api-contract.js';
export { MAX_ISSUERS } from './auth0-variables.js';
export { ConfigError } from './config-error.js';

/**
 * Everything the process can be configured with, validated once at start.
 * `parseConfig` is pure (environment in, config out) so every rule is unit-tested;
 * `src/config/env-file.ts` is the only place that touches `.env` and `process.env`.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One trusted issuer: the tenant's canonical domain or one of its custom domains. */
export interface IssuerConfig {
  /** Expected `iss`: the domain's origin with a trailing slash, exactly as Auth0 writes it. */
  readonly issuer: string;
  /** Its own JWKS, derived from the configured domain only (never from a token). */
  readonly jwksUri: string;
}

export interface AuthConfig {
  /** The allow-list of issuers (AUTH0_DOMAIN, comma-separated), in configured order; never empty. */
  readonly issuers: readonly IssuerConfig[];
  readonly audience: string;
  /** AUTH0_SIGNING_ALGS: the `alg` values a token may carry. */
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockToleranceSeconds: number;
}


export interface TokenCacheConfig {
  /** 0 turns the verified-token cache off. */
  readonly maxEntries: number;
  /** Upper bound on how long a verified token is trusted without re-verifying its signature. */
  readonly maxAgeSeconds: number;
}

/**
 * The issuer the process runs itself when AUTH0_DOMAIN is unset: the dev tenant. Configuration knows
 * it only through this shape, so it imports nothing above it; `src/server-config.ts` plugs the dev
 * tenant's settings in.
 */
export interface EmbeddedIssuer<Settings, Vars = unknown> {
  /** Its own variables; checked even with AUTH0_DOMAIN set, so a typo in one is never silent. */
  readonly schema: z.ZodType<Vars>;
  /**
   * Its settings, from its parsed variables and the API's, and its issuers' origins (without trailing
   * slash), which the API then trusts. Throws a one-line ConfigError on conflicts.
   */
  build(vars: Vars, api: EmbeddedIssuerApiSettings): { readonly settings: Settings; readonly origins: readonly string[] };
}

/** What the embedded issuer takes from the API's own variables. */
export interface EmbeddedIssuerApiSettings {
  readonly port: number;
  /** CLIENT_ORIGIN_URL: the SPA's origin, the default for its allowed URLs. */
  readonly clientOriginUrl: string;
  readonly audience: string;
  /** AUTH0_SIGNING_ALGS: what the tenant may be asked to sign with. */
  readonly signingAlgorithms: readonly SigningAlgorithm[];
}

/** `Embedded`: the embedded issuer's settings type (the dev tenant's, once `src/server-config.ts` composes them). */
export interface Config<Embedded = unknown> {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly workers: number;
  /** Port of the Prometheus scrape endpoint (on `host`); null turns metrics off. */
  readonly metricsPort: number | null;
  readonly clientOriginUrl: string;
  readonly auth: AuthConfig;
  readonly tokenCache: TokenCacheConfig;
  /** NODE_ENV=production (case-insensitive): no dev tenant, a drain window, a start-up summary line. */
  readonly production: boolean;
  /**
   * After SIGTERM/SIGINT, how long requests are still served (each with `Connection: close`, while
   * /readyz answers 503) before the server closes, in seconds. SHUTDOWN_DRAIN_SECONDS; default 5
   * with NODE_ENV=production (load balancers and Kubernetes take a few seconds to stop sending), else 0.
   */
  readonly shutdownDrainSeconds: number;
  readonly dpop: DpopConfig;
  /** Set when no AUTH0_DOMAIN is configured: the API then trusts the embedded dev tenant. */
  readonly devTenant: Embedded | null;
}

const clientOrigin = optionalString.transform((value, ctx) => {
  if (value === undefined) return 'http://localhost:4040';
  const result = originProblem(value);
  if ('problem' in result) {
    ctx.addIssue({ code: 'custom', message: result.problem });
    return z.NEVER;
  }
  return result.origin;
});

export const EnvSchema = z.object({
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
  AUTH0_DOMAIN: auth0Domains,
  AUTH0_AUDIENCE: audience,
  AUTH0_SIGNING_ALGS: signingAlgorithms,
  ALLOW_LOOPBACK_ISSUER: allowLoopbackIssuer,
  TOKEN_CACHE_MAX_ENTRIES: integer(0, 1_000_000, 10_000),
  TOKEN_CACHE_MAX_AGE_SECONDS: integer(0, 86_400, 300),
  // -1: not set, so the default depends on NODE_ENV (below).
  SHUTDOWN_DRAIN_SECONDS: integer(0, 300, -1),
});

type Env = Readonly<Record<string, string | undefined>>;

/** SHUTDOWN_DRAIN_SECONDS when unset with NODE_ENV=production. */
export const DEFAULT_PRODUCTION_DRAIN_SECONDS = 5;

/** Clock skew tolerated on `exp`/`nbf`/`iat`; Auth0's own SDKs use 5 s. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Auth settings for tenants at `origins` (each without trailing slash): issuer and JWKS per origin. */
export function authConfigFor(
  origins: string | readonly string[],
  audience: string,
  algorithms: readonly SigningAlgorithm[] = ['RS256'],
): AuthConfig {
  return {
    issuers: [origins].flat().map((origin) => ({ issuer: `${origin}/`, jwksUri: `${origin}/.well-known/jwks.json` })),
    audience,
    algorithms,
    clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  };
}

/**
 * Validates the environment. Throws a ConfigError whose message is one line such as
 * `AUTH0_DOMAIN must be a host name without a path, got path "/oauth/token"`. Without AUTH0_DOMAIN
 * the API trusts `embedded` (the dev tenant); with neither, the start is refused.
 */
export function parseConfig<Embedded = never, Vars = unknown>(env: Env, embedded?: EmbeddedIssuer<Embedded, Vars>): Config<Embedded> {
  // Every set is checked even with AUTH0_DOMAIN set, so a typo in a DEV_TENANT_ variable is never silent.
  const result = EnvSchema.safeParse(env);
  const embeddedResult = embedded?.schema.safeParse(env);
  const dpopResult = DpopEnvSchema.safeParse(env);
  if (!result.success || embeddedResult?.success === false || !dpopResult.success) {
    const issues = [...(result.error?.issues ?? []), ...(embeddedResult?.error?.issues ?? []), ...(dpopResult.error?.issues ?? [])];
    const problems = issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const vars = result.data;
  const production = vars.NODE_ENV?.toLowerCase() === 'production';

  let devTenant: Embedded | null = null;
  let origins: readonly string[];
  let apiAudience: string;
  if (vars.AUTH0_DOMAIN !== undefined) {
    if (vars.AUTH0_AUDIENCE === undefined) {
      throw new ConfigError(
        'Invalid configuration: AUTH0_AUDIENCE is required when AUTH0_DOMAIN is set (the API Identifier from the Auth0 dashboard)',
      );
    }
    origins = vars.AUTH0_DOMAIN;
    apiAudience = vars.AUTH0_AUDIENCE;
    if (production) checkProductionIssuers(origins, vars.ALLOW_LOOPBACK_ISSUER);
  } else {
    if (production) {
      throw new ConfigError(
        'Invalid configuration: AUTH0_DOMAIN is required when NODE_ENV=production (the embedded dev tenant is for local use only)',
      );
    }
    if (embedded === undefined || embeddedResult === undefined) {
      throw new ConfigError('Invalid configuration: AUTH0_DOMAIN is required (no embedded dev tenant here)');
    }
    apiAudience = vars.AUTH0_AUDIENCE ?? DEFAULT_AUDIENCE;
    const built = embedded.build(embeddedResult.data, {
      port: vars.PORT,
      clientOriginUrl: vars.CLIENT_ORIGIN_URL,
      audience: apiAudience,
      signingAlgorithms: vars.AUTH0_SIGNING_ALGS,
    });
    devTenant = built.settings;
    origins = built.origins;
    const devPorts = origins.map((origin) => Number(new URL(origin).port));
    if (vars.METRICS_PORT !== null && devPorts.includes(vars.METRICS_PORT)) {
      throw new ConfigError(`Invalid configuration: METRICS_PORT must differ from the dev tenant's ports (${devPorts.join(', ')})`);
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
    auth: authConfigFor(origins, apiAudience, vars.AUTH0_SIGNING_ALGS),
    tokenCache: { maxEntries: vars.TOKEN_CACHE_MAX_ENTRIES, maxAgeSeconds: vars.TOKEN_CACHE_MAX_AGE_SECONDS },
    production,
    shutdownDrainSeconds:
      vars.SHUTDOWN_DRAIN_SECONDS >= 0 ? vars.SHUTDOWN_DRAIN_SECONDS : production ? DEFAULT_PRODUCTION_DRAIN_SECONDS : 0,
    dpop: dpopConfigFrom(dpopResult.data, { port: vars.PORT, workers: vars.WEB_CONCURRENCY }),
    devTenant,
  };
}
