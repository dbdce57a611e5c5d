import { parseArgs } from 'node:util';
import type { DevTenantConfig } from '../config.js';
import { formatDuration } from '../banner.js';
import { findDevTenantClient } from '../grants/client-credentials.js';
import { allTenantConfigs } from '../extra-issuers.js';
import { type ClientCredentials, requestToken, TenantUnreachableError, TokenRequestError } from '../token-request.js';
import { CliError, loadDevTenantConfig, runCli, tenantUnreachableError, usageError } from './cli.js';

/**
 * `npm run -s token [-- --admin]`: asks the running dev tenant for an access token.
 * The token alone is the last line of stdout and every hint goes to stderr, so
 * `TOKEN=$(npm run -s token -- --admin)` captures just the token.
 */

const USAGE = `Usage: npm run -s token -- [--admin] [--client-id ID [--client-secret SECRET]] [--audience AUDIENCE] [--form]
                                [--alg RS256|PS256] [--issuer N]

Prints an access token from the running dev tenant (start the API with npm start).
  --admin           use the admin client (its token carries read:admin-messages)
  --client-id       use this client; its secret comes from the config unless --client-secret is given
  --client-secret   the client's secret
  --audience        request this audience instead of the configured one
  --form            send the request form-encoded instead of JSON
  --alg             sign with this algorithm (PS256 needs AUTH0_SIGNING_ALGS=RS256,PS256); dev tenant only
  --issuer          ask tenant N (1 = the first; 2... with DEV_TENANT_EXTRA_ISSUERS)
  --help            show this help`;

const OPTIONS = {
  admin: { type: 'boolean' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  audience: { type: 'string' },
  form: { type: 'boolean' },
  alg: { type: 'string' },
  issuer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function credentialsFor(flags: Flags, config: DevTenantConfig): { credentials: ClientCredentials; label: string } {
  const audience = flags.audience ?? config.audience;
  const clientId = flags['client-id'];
  if (clientId === undefined) {
    if (flags['client-secret'] !== undefined) throw new CliError(`--client-secret needs --client-id\n\n${USAGE}`, 2);
    const client = findDevTenantClient(config, flags.admin === true);
    const permissions = client.permissions.length > 0 ? client.permissions.join(' ') : 'none';
    return {
      credentials: { clientId: client.clientId, clientSecret: client.clientSecret, audience },
      label: `${client.name} (permissions: ${permissions})`,
    };
  }
  if (flags.admin === true) throw new CliError(`use either --admin or --client-id, not both\n\n${USAGE}`, 2);
  const clientSecret = flags['client-secret'] ?? config.clients.find((client) => client.clientId === clientId)?.clientSecret;
  if (clientSecret === undefined) {
    throw new CliError(`client "${clientId}" is not in the dev tenant config; pass --client-secret too\n\n${USAGE}`, 2);
  }
  return { credentials: { clientId, clientSecret, audience }, label: `client ${clientId}` };
}

/** The URL of tenant `--issuer N` (default 1, the first). */
function tenantUrlFor(flags: Flags, config: DevTenantConfig): string {
  const tenants = allTenantConfigs(config);
  const n = flags.issuer === undefined ? 1 : /^\d+$/.test(flags.issuer) ? Number(flags.issuer) : Number.NaN;
  const tenant = tenants[n - 1];
  if (tenant === undefined) {
    throw new CliError(`--issuer must be a number from 1 to ${tenants.length} (DEV_TENANT_EXTRA_ISSUERS=${config.extraIssuers})\n\n${USAGE}`, 2);
  }
  return tenant.url;
}

async function main(args: readonly string[]): Promise<void> {
  let flags: Flags;
  try {
    flags = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw usageError(error, USAGE);
  }
  if (flags.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadDevTenantConfig(
    'get a token from your Auth0 tenant instead (Dashboard > Applications > APIs > your API > Test).',
  );
  const request = credentialsFor(flags, config);
  const tenantUrl = tenantUrlFor(flags, config);

  let response;
  try {
    response = await requestToken(tenantUrl, request.credentials, flags.form === true ? 'form' : 'json', { signingAlg: flags.alg });
  } catch (error) {
    if (error instanceof TenantUnreachableError) {
      throw tenantUnreachableError(tenantUrl);
    }
    if (error instanceof TokenRequestError) throw new CliError(error.message, 1);
    throw error;
  }
  process.stderr.write(
    `Access token for ${request.label}, valid ${formatDuration(response.expires_in)}.\n` +
      'Use it as: curl -H "authorization: Bearer $TOKEN" ... after TOKEN=$(npm run -s token' +
      `${flags.admin === true ? ' -- --admin' : ''})\n`,
  );
  process.stdout.write(`${response.access_token}\n`);
}

await runCli('token', main);
