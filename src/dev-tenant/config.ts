import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ADMIN_PERMISSION, type SigningAlgorithm } from '../config/api-contract.js';
import type { EmbeddedIssuer, EmbeddedIssuerApiSettings } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { absoluteUrlProblem, integer, list, nonEmpty, originProblem } from '../config/env-rules.js';

/**
 * The embedded dev tenant's configuration: its variables (all `DEV_TENANT_*`), their defaults
 * and the config they build. `devTenantSettings` plugs them into the API's configuration
 * (`src/config/config.ts`), which builds them only when AUTH0_DOMAIN is unset.
 */

/** A machine-to-machine client (client-credentials grant). */
export interface DevTenantClient {
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Permissions put in the `permissions` claim of this client's tokens. */
  readonly permissions: readonly string[];
}

/** The registered single-page app: a public client (no secret); every URL is matched exactly, as in Auth0. */
export interface DevTenantSpaClient {
  readonly clientId: string;
  /** "Allowed Callback URLs": the `redirect_uri` values /authorize accepts. */
  readonly callbackUrls: readonly string[];
  /** "Allowed Logout URLs": the `returnTo` values /v2/logout redirects to. */
  readonly logoutUrls: readonly string[];
  /** "Allowed Web Origins": CORS on /oauth/token and the only `postMessage` targets. */
  readonly webOrigins: readonly string[];
}

/**
 * The registered regular web application (Auth0's Next.js sample): a confidential client that
 * authenticates at /oauth/token with its secret (client_secret_basic or client_secret_post).
 */
export interface DevTenantWebClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** "Allowed Callback URLs", matched exactly. */
  readonly callbackUrls: readonly string[];
  /** "Allowed Logout URLs": where /v2/logout may send the browser back. */
  readonly logoutUrls: readonly string[];
}

/** A user of the login page. */
export interface DevTenantUser {
  /** `auth0|` + 24 hex digits derived from the email, stable across restarts. */
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly permissions: readonly string[];
}

export interface DevTenantConfig {
  /** Always a loopback host: the dev tenant must never be reachable from outside. `localhost` binds 127.0.0.1 and ::1. */
  readonly host: string;
  readonly port: number;
  /** `http://localhost:PORT`: the domain given to SPAs and the API; the issuer is this plus `/`. */
  readonly url: string;
  readonly keysDir: string;
  readonly audience: string;
  /** Access token lifetime, seconds (default 86400, Auth0's). */
  readonly tokenLifetimeSeconds: number;
  readonly clients: readonly DevTenantClient[];
  readonly spa: DevTenantSpaClient;
  readonly web: DevTenantWebClient;
  /**
   * RFC 8707 `resource` values that name the API besides `audience`: its loopback origins, the
   * `resource` of its RFC 9728 metadata when API_ORIGIN is unset. Tokens still carry `audience`.
   */
  readonly resourceAliases: readonly string[];
  readonly users: readonly DevTenantUser[];
  /** How long a login on the tenant lasts, seconds (default 259200 = 3 days, Auth0's inactivity default). */
  readonly sessionLifetimeSeconds: number;
  /** DEV_TENANT_EXTRA_ISSUERS: more tenants on the next ports, each its own issuer and keys. */
  readonly extraIssuers: number;
  /** The algorithms it signs with when asked (AUTH0_SIGNING_ALGS); RS256 unless asked otherwise. */
  readonly signingAlgorithms: readonly SigningAlgorithm[];
}

const email = (value: string): { value: string } | { problem: string } =>
  /^[^\s@,]+@[^\s@,]+$/.test(value) ? { value: value.toLowerCase() } : { problem: `must list email addresses, got ${JSON.stringify(value)}` };

export const DevTenantEnvSchema = z.object({
  DEV_TENANT_PORT: integer(1, 65535, 6061),
  DEV_TENANT_KEYS_DIR: nonEmpty('.dev-tenant'),
  DEV_TENANT_TOKEN_LIFETIME_SECONDS: integer(60, 2_592_000, 86_400),
  DEV_TENANT_EXTRA_ISSUERS: integer(0, 4, 0),
  DEV_TENANT_CLIENT_ID: nonEmpty('hello-world-client'),
  DEV_TENANT_CLIENT_SECRET: nonEmpty('hello-world-client-secret'),
  DEV_TENANT_ADMIN_CLIENT_ID: nonEmpty('hello-world-admin-client'),
  DEV_TENANT_ADMIN_CLIENT_SECRET: nonEmpty('hello-world-admin-client-secret'),
  DEV_TENANT_SPA_CLIENT_ID: nonEmpty('hello-world-spa'),
  DEV_TENANT_SPA_CALLBACK_URLS: list(absoluteUrlProblem),
  DEV_TENANT_SPA_LOGOUT_URLS: list(absoluteUrlProblem),
  DEV_TENANT_SPA_WEB_ORIGINS: list((value) => {
    const result = originProblem(value);
    return 'origin' in result ? { value: result.origin } : result;
  }),
  DEV_TENANT_WEB_CLIENT_ID: nonEmpty('hello-world-web'),
  DEV_TENANT_WEB_CLIENT_SECRET: nonEmpty('hello-world-web-secret'),
  DEV_TENANT_WEB_CALLBACK_URLS: list(absoluteUrlProblem),
  DEV_TENANT_USERS: list(email),
  DEV_TENANT_ADMIN_USERS: list(email),
  DEV_TENANT_SESSION_LIFETIME_SECONDS: integer(60, 2_592_000, 259_200),
});
export type DevTenantEnv = z.infer<typeof DevTenantEnvSchema>;

/** What the dev tenant takes from the API's own variables. */
export type ApiSettings = EmbeddedIssuerApiSettings;

/** The tenant's own origin, then one per extra issuer, on the ports right after DEV_TENANT_PORT. */
export function devTenantOrigins(config: Pick<DevTenantConfig, 'host' | 'port' | 'extraIssuers'>): string[] {
  return Array.from({ length: 1 + config.extraIssuers }, (_, i) => `http://${config.host}:${String(config.port + i)}`);
}

export function userFor(emailAddress: string, permissions: readonly string[]): DevTenantUser {
  const id = createHash('sha256').update(emailAddress, 'utf8').digest('hex').slice(0, 24);
  return { userId: `auth0|${id}`, email: emailAddress, name: emailAddress, permissions };
}

function refuse(message: string): never {
  throw new ConfigError(`Invalid configuration: ${message}`);
}

/** Builds the dev tenant's config from its validated variables; throws a one-line ConfigError on conflicts. */
export function devTenantConfigFrom(vars: DevTenantEnv, api: ApiSettings, cwd: string): DevTenantConfig {
  if (api.port === vars.DEV_TENANT_PORT) {
    refuse(`DEV_TENANT_PORT must differ from PORT (both are ${vars.DEV_TENANT_PORT})`);
  }
  const lastPort = vars.DEV_TENANT_PORT + vars.DEV_TENANT_EXTRA_ISSUERS;
  if (lastPort > 65535) {
    refuse(`DEV_TENANT_EXTRA_ISSUERS needs ports up to ${lastPort}, past 65535; lower DEV_TENANT_PORT`);
  }
  if (api.port > vars.DEV_TENANT_PORT && api.port <= lastPort) {
    refuse(`DEV_TENANT_EXTRA_ISSUERS would use port ${api.port}, which is PORT; move DEV_TENANT_PORT`);
  }
  if (vars.DEV_TENANT_CLIENT_ID === vars.DEV_TENANT_ADMIN_CLIENT_ID) {
    refuse('DEV_TENANT_ADMIN_CLIENT_ID must differ from DEV_TENANT_CLIENT_ID');
  }
  if ([vars.DEV_TENANT_CLIENT_ID, vars.DEV_TENANT_ADMIN_CLIENT_ID].includes(vars.DEV_TENANT_SPA_CLIENT_ID)) {
    refuse('DEV_TENANT_SPA_CLIENT_ID must differ from the machine-to-machine client IDs');
  }
  if ([vars.DEV_TENANT_CLIENT_ID, vars.DEV_TENANT_ADMIN_CLIENT_ID, vars.DEV_TENANT_SPA_CLIENT_ID].includes(vars.DEV_TENANT_WEB_CLIENT_ID)) {
    refuse('DEV_TENANT_WEB_CLIENT_ID must differ from the other client IDs');
  }
  const plainUsers = vars.DEV_TENANT_USERS ?? ['user@example.com'];
  const adminUsers = vars.DEV_TENANT_ADMIN_USERS ?? ['admin@example.com'];
  if (plainUsers.length + adminUsers.length === 0) refuse('DEV_TENANT_USERS and DEV_TENANT_ADMIN_USERS are both empty');
  const both = plainUsers.find((address) => adminUsers.includes(address));
  if (both !== undefined) refuse(`DEV_TENANT_ADMIN_USERS and DEV_TENANT_USERS both list ${both}`);

  const host = 'localhost';
  return {
    host,
    port: vars.DEV_TENANT_PORT,
    url: `http://${host}:${vars.DEV_TENANT_PORT}`,
    keysDir: resolve(cwd, vars.DEV_TENANT_KEYS_DIR),
    audience: api.audience,
    tokenLifetimeSeconds: vars.DEV_TENANT_TOKEN_LIFETIME_SECONDS,
    clients: [
      { name: 'Hello World Client', clientId: vars.DEV_TENANT_CLIENT_ID, clientSecret: vars.DEV_TENANT_CLIENT_SECRET, permissions: [] },
      {
        name: 'Hello World Admin Client',
        clientId: vars.DEV_TENANT_ADMIN_CLIENT_ID,
        clientSecret: vars.DEV_TENANT_ADMIN_CLIENT_SECRET,
        permissions: [ADMIN_PERMISSION],
      },
    ],
    spa: {
      clientId: vars.DEV_TENANT_SPA_CLIENT_ID,
      callbackUrls: vars.DEV_TENANT_SPA_CALLBACK_URLS ?? [`${api.clientOriginUrl}/callback`],
      logoutUrls: vars.DEV_TENANT_SPA_LOGOUT_URLS ?? [api.clientOriginUrl],
      webOrigins: vars.DEV_TENANT_SPA_WEB_ORIGINS ?? [api.clientOriginUrl],
    },
    web: {
      clientId: vars.DEV_TENANT_WEB_CLIENT_ID,
      clientSecret: vars.DEV_TENANT_WEB_CLIENT_SECRET,
      // nextjs-auth0's callback route; the sample runs on CLIENT_ORIGIN_URL's default port, 4040.
      callbackUrls: [`${api.clientOriginUrl}/api/auth/callback`, ...(vars.DEV_TENANT_WEB_CALLBACK_URLS ?? [])],
      logoutUrls: [api.clientOriginUrl],
    },
    resourceAliases: ['localhost', '127.0.0.1', '[::1]'].map((host) => `http://${host}:${String(api.port)}`),
    users: [
      ...plainUsers.map((address) => userFor(address, [])),
      ...adminUsers.map((address) => userFor(address, [ADMIN_PERMISSION])),
    ],
    sessionLifetimeSeconds: vars.DEV_TENANT_SESSION_LIFETIME_SECONDS,
    extraIssuers: vars.DEV_TENANT_EXTRA_ISSUERS,
    signingAlgorithms: api.signingAlgorithms,
  };
}

/** The dev tenant as the API's embedded issuer: its variables, and its settings and origins from them (keys folder relative to `cwd`). */
export function devTenantSettings(cwd: string): EmbeddedIssuer<DevTenantConfig, DevTenantEnv> {
  return {
    schema: DevTenantEnvSchema,
    build(vars, api) {
      const settings = devTenantConfigFrom(vars, api, cwd);
      return { settings, origins: devTenantOrigins(settings) };
    },
  };
}
