import { parseArgs } from 'node:util';
import { ConfigError, type DevTenantConfig } from '../../config/config.js';
import { loadConfig } from '../../config/env-file.js';
import { formatDuration } from '../banner.js';
import { findDevTenantClient } from '../client-credentials.js';
import { type ClientCredentials, requestToken, TenantUnreachableError, TokenRequestError } from '../token-request.js';

/**
 * `npm run -s token [-- --admin]`: asks the running dev tenant for an access token.
 * The token alone is the last line of stdout and every hint goes to stderr, so
 * `TOKEN=$(npm run -s token -- --admin)` captures just the token.
 */

const USAGE = `Usage: npm run -s token -- [--admin] [--client-id ID [--client-secret SECRET]] [--audience AUDIENCE] [--form]

Prints an access token from the running dev tenant (start the API with npm start).
  --admin           use the admin client (its token carries read:admin-messages)
  --client-id       use this client; its secret comes from the config unless --client-secret is given
  --client-secret   the client's secret
  --audience        request this audience instead of the configured one
  --form            send the request form-encoded instead of JSON
  --help            show this help`;

const OPTIONS = {
  admin: { type: 'boolean' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  audience: { type: 'string' },
  form: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** A usage mistake: exit 2 like other command-line tools. */
class UsageError extends Error {}

function printError(message: string): void {
  process.stderr.write(`token: ${message}\n`);
}

function credentialsFor(flags: Flags, config: DevTenantConfig): { credentials: ClientCredentials; label: string } {
  const audience = flags.audience ?? config.audience;
  const clientId = flags['client-id'];
  if (clientId === undefined) {
    if (flags['client-secret'] !== undefined) throw new UsageError('--client-secret needs --client-id');
    const client = findDevTenantClient(config, flags.admin === true);
    const permissions = client.permissions.length > 0 ? client.permissions.join(' ') : 'none';
    return {
      credentials: { clientId: client.clientId, clientSecret: client.clientSecret, audience },
      label: `${client.name} (permissions: ${permissions})`,
    };
  }
  if (flags.admin === true) throw new UsageError('use either --admin or --client-id, not both');
  const clientSecret = flags['client-secret'] ?? config.clients.find((client) => client.clientId === clientId)?.clientSecret;
  if (clientSecret === undefined) {
    throw new UsageError(`client "${clientId}" is not in the dev tenant config; pass --client-secret too`);
  }
  return { credentials: { clientId, clientSecret, audience }, label: `client ${clientId}` };
}

async function main(args: readonly string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    printError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let config: DevTenantConfig | null;
  try {
    config = loadConfig().devTenant;
  } catch (error) {
    if (error instanceof ConfigError) {
      printError(error.message);
      return 1;
    }
    throw error;
  }
  if (config === null) {
    printError('AUTH0_DOMAIN is set, so there is no dev tenant: get a token from your Auth0 tenant instead (Dashboard > Applications > APIs > your API > Test).');
    return 1;
  }

  let request: ReturnType<typeof credentialsFor>;
  try {
    request = credentialsFor(flags, config);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(`${error.message}\n\n${USAGE}`);
    return 2;
  }

  try {
    const response = await requestToken(config.url, request.credentials, flags.form === true ? 'form' : 'json');
    process.stderr.write(
      `Access token for ${request.label}, valid ${formatDuration(response.expires_in)}.\n` +
        'Use it as: curl -H "authorization: Bearer $TOKEN" ... after TOKEN=$(npm run -s token' +
        `${flags.admin === true ? ' -- --admin' : ''})\n`,
    );
    process.stdout.write(`${response.access_token}\n`);
    return 0;
  } catch (error) {
    if (error instanceof TenantUnreachableError) {
      printError(`no dev tenant answers at ${config.url}: is the API running? start it with npm start`);
      return 1;
    }
    if (error instanceof TokenRequestError) {
      printError(error.message);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
