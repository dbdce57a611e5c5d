import type { DpopMode } from '../config/dpop-config.js';
import type { DevTenantConfig } from './config.js';
import { findDevTenantClient } from './grants/client-credentials.js';

/**
 * What the API prints at start in dev tenant mode: a warning, the clients, and shell commands
 * that work with only curl and node installed (no jq), so anyone can try the API at once.
 */

export interface DevTenantBannerInput {
  /** Where the API answers, e.g. `http://localhost:6060`. */
  readonly apiUrl: string;
  /** `DevTenant.url`: the tenant's actual origin. */
  readonly tenantUrl: string;
  readonly config: DevTenantConfig;
  /** DPOP: the end-to-end DPoP call is shown unless it is `disabled` (default `allowed`). */
  readonly dpopMode?: DpopMode;
  /** Lines about the extra issuers (DEV_TENANT_EXTRA_ISSUERS), shown inside the banner. */
  readonly extraIssuerLines?: readonly string[];
}

/** One DPoP call end to end; `npm run call` makes the key and the proofs, so no crypto is needed in a shell. */
export const DPOP_CALL_COMMAND = 'npm run -s call -- /api/messages/admin --admin --dpop';

/**
 * Commands for bash/zsh; each `fetch…Token` sets `TOKEN`, each `call…` uses it.
 * A type alias, not an interface, so `Object.values(commands)` is typed `string[]`.
 */
export type DevTenantCurlCommands = {
  /** Sets `TOKEN` to a token of the client without permissions. */
  readonly fetchToken: string;
  /** Sets `TOKEN` to a token carrying the admin permission. */
  readonly fetchAdminToken: string;
  readonly callPublic: string;
  readonly callProtected: string;
  readonly callAdmin: string;
};

/** Quotes for a POSIX shell only when needed, so the common case stays readable. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Reads a token response from stdin and prints its access_token: the `jq -r .access_token` of node. */
const PRINT_ACCESS_TOKEN = `node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token'`;

function fetchTokenCommand(tenantUrl: string, config: DevTenantConfig, admin: boolean): string {
  const client = findDevTenantClient(config, admin);
  const body = JSON.stringify({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
    audience: config.audience,
  });
  return (
    `TOKEN=$(curl -s -X POST ${shellQuote(`${tenantUrl}/oauth/token`)} -H 'content-type: application/json' ` +
    `-d ${shellQuote(body)} | ${PRINT_ACCESS_TOKEN})`
  );
}

function callCommand(apiUrl: string, path: string, withToken: boolean): string {
  const auth = withToken ? ` -H "authorization: Bearer $TOKEN"` : '';
  // -w adds the newline the JSON bodies lack, so the prompt does not end up on the same line.
  return `curl -s -w '\\n' ${shellQuote(`${apiUrl}${path}`)}${auth}`;
}

export function devTenantCurlCommands({ apiUrl, tenantUrl, config }: DevTenantBannerInput): DevTenantCurlCommands {
  return {
    fetchToken: fetchTokenCommand(tenantUrl, config, false),
    fetchAdminToken: fetchTokenCommand(tenantUrl, config, true),
    callPublic: callCommand(apiUrl, '/api/messages/public', false),
    callProtected: callCommand(apiUrl, '/api/messages/protected', true),
    callAdmin: callCommand(apiUrl, '/api/messages/admin', true),
  };
}

/**
 * What an Auth0 Hello World SPA needs, named as the samples name them: Angular reads these names,
 * React prefixes them with `REACT_APP_`, Vue with `VITE_`. The domain keeps `http://`: without it
 * the SDK would assume https.
 */
export function spaEnvironment({ apiUrl, tenantUrl, config }: DevTenantBannerInput): [name: string, value: string][] {
  return [
    ['AUTH0_DOMAIN', tenantUrl],
    ['AUTH0_CLIENT_ID', config.spa.clientId],
    ['AUTH0_CALLBACK_URL', config.spa.callbackUrls[0] ?? ''],
    ['AUTH0_AUDIENCE', config.audience],
    ['API_SERVER_URL', apiUrl],
  ];
}

/**
 * The `.env.local` of Auth0's Next.js Hello World (nextjs-auth0): the regular web app client. The
 * app's own cookie secret (AUTH0_SECRET) is the user's to make; the app runs on CLIENT_ORIGIN_URL.
 */
export function webAppEnvironment({ apiUrl, tenantUrl, config }: DevTenantBannerInput): [name: string, value: string][] {
  return [
    ['AUTH0_BASE_URL', config.web.logoutUrls[0] ?? ''],
    ['AUTH0_ISSUER_BASE_URL', tenantUrl],
    ['AUTH0_CLIENT_ID', config.web.clientId],
    ['AUTH0_CLIENT_SECRET', config.web.clientSecret],
    ['AUTH0_AUDIENCE', config.audience],
    ['API_SERVER_URL', apiUrl],
  ];
}

/** `86400` → `24 h`; durations that are not whole hours stay in seconds. */
export function formatDuration(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;
}

export function formatDevTenantBanner(input: DevTenantBannerInput): string {
  const { tenantUrl, config } = input;
  const commands = devTenantCurlCommands(input);
  const rule = '='.repeat(78);
  const clients = config.clients.map((client) => {
    const permissions = client.permissions.length > 0 ? client.permissions.join(' ') : '(none)';
    return `  ${client.name}: client_id ${client.clientId}  client_secret ${client.clientSecret}  permissions ${permissions}`;
  });
  const users = config.users.map((user) => {
    const permissions = user.permissions.length > 0 ? user.permissions.join(' ') : 'no permissions';
    return `${user.email} (${permissions})`;
  });
  return [
    rule,
    'DEV TENANT MODE: a local stand-in for Auth0 issues the tokens. Do NOT use it in production.',
    'To use a real Auth0 tenant, set AUTH0_DOMAIN (and AUTH0_AUDIENCE) in .env or the environment.',
    rule,
    `Tenant:   ${tenantUrl}  (issuer ${tenantUrl}/)`,
    `Audience: ${config.audience}  (tokens valid ${formatDuration(config.tokenLifetimeSeconds)})`,
    'Clients:',
    ...clients,
    '',
    'Get a token:  TOKEN=$(npm run -s token)   admin: TOKEN=$(npm run -s token -- --admin)',
    'or with curl (the client without permissions, then the admin client):',
    `  ${commands.fetchToken}`,
    `  ${commands.fetchAdminToken}`,
    'Call the API:',
    ...(input.dpopMode === 'required' ? ['  (DPOP=required: the Bearer calls below answer 401; the DPoP call is the one that works)'] : []),
    `  ${commands.callPublic}`,
    `  ${commands.callProtected}`,
    `  ${commands.callAdmin}`,
    ...(input.dpopMode === 'disabled' ? [] : [`  ${DPOP_CALL_COMMAND}   (DPoP: a key-bound token and a fresh proof)`]),
    'Single-page app (.env of the Auth0 Hello World SPAs; React adds REACT_APP_, Vue VITE_):',
    ...spaEnvironment(input).map(([name, value]) => `  ${name}=${value}`),
    `  Log in as: ${users.join(', ')}`,
    "Regular web app (.env.local of Auth0's Next.js Hello World, plus AUTH0_SECRET: the output of openssl rand -hex 32):",
    ...webAppEnvironment(input).map(([name, value]) => `  ${name}=${value}`),
    ...(input.extraIssuerLines ?? []),
    rule,
  ].join('\n');
}

/** One banner line per extra issuer, with the command that gets a token from it. */
export function extraIssuerLines(urls: readonly string[]): string[] {
  return urls.slice(1).map((url, i) => `Also trusted: ${url}/ (DEV_TENANT_EXTRA_ISSUERS)  token: npm run -s token -- --issuer ${i + 2}`);
}
