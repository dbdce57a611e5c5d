import { type Config, parseConfig } from '../../config/config.js';
import { ConfigError } from '../../config/config-error.js';
import { readEnv } from '../../config/env-file.js';
import { type DevTenantConfig, devTenantSettings } from '../config.js';

/**
 * What the dev tenant's command-line tools share: a failure the user can act on is one line on
 * stderr (`<command>: <message>`) and an exit code (2 for a usage mistake, 1 otherwise), never a
 * stack trace.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

/** A usage mistake: the message, then the usage text; exit 2 like other command-line tools. */
export function usageError(error: unknown, usage: string): CliError {
  return new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`, 2);
}

/** The dev tenant's config from `.env` and the environment; CliError when there is none. */
export function loadDevTenantConfig(whenAuth0DomainIsSet: string): DevTenantConfig {
  return loadConfigWithDevTenant(whenAuth0DomainIsSet).devTenant;
}

/** The whole config (API and dev tenant) from `.env` and the environment; CliError when there is no dev tenant. */
export function loadConfigWithDevTenant(whenAuth0DomainIsSet: string): Config<DevTenantConfig> & { readonly devTenant: DevTenantConfig } {
  let config: Config<DevTenantConfig>;
  try {
    // The same composition as the API's (src/server-config.ts): .env and the environment, the dev tenant plugged in.
    config = parseConfig(readEnv(), devTenantSettings(process.cwd()));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 1);
    throw error;
  }
  const { devTenant } = config;
  if (devTenant === null) throw new CliError(`AUTH0_DOMAIN is set, so there is no dev tenant: ${whenAuth0DomainIsSet}`, 1);
  return { ...config, devTenant };
}

/**
 * The tenant did not answer. Most often the API is not running, or it was started with another
 * DEV_TENANT_PORT than this command read (e.g. set on the `npm start` line only): say both.
 */
export function tenantUnreachableError(tenantUrl: string): CliError {
  return new CliError(
    `no dev tenant answers at ${tenantUrl}: is the API running? start it with npm start ` +
      '(if it runs with another DEV_TENANT_PORT, give this command the same value, in .env or the environment)',
    1,
  );
}

/** Runs a command's main, turning CliError into its line on stderr and its exit code. */
export async function runCli(command: string, main: (args: readonly string[]) => Promise<void>): Promise<void> {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`${command}: ${error.message}\n`);
    process.exitCode = error.exitCode;
  }
}
