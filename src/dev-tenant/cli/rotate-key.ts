import { parseArgs } from 'node:util';
import { ConfigError, type DevTenantConfig } from '../../config/config.js';
import { loadConfig } from '../../config/env-file.js';
import { formatDuration } from '../banner.js';
import { retiredKeyGraceSeconds, rotateSigningKey, signingKeysFilePath, SigningKeysFileError } from '../signing-keys.js';

/**
 * `npm run dev-tenant:rotate-key`: replaces the dev tenant's signing key, as a key rotation
 * in the Auth0 dashboard does. Works whether or not the API is running.
 */

const USAGE = `Usage: npm run dev-tenant:rotate-key

Creates a new signing key for the dev tenant; the previous one stays published for a grace period.`;

function printError(message: string): void {
  process.stderr.write(`dev-tenant:rotate-key: ${message}\n`);
}

async function main(args: readonly string[]): Promise<number> {
  let help: boolean;
  try {
    help = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help === true;
  } catch (error) {
    printError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (help) {
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
    printError('AUTH0_DOMAIN is set, so there is no dev tenant: rotate keys in the Auth0 dashboard (Settings > Signing Keys).');
    return 1;
  }

  const now = new Date();
  const grace = formatDuration(retiredKeyGraceSeconds(config.tokenLifetimeSeconds));
  let keys: Awaited<ReturnType<typeof rotateSigningKey>>;
  try {
    keys = await rotateSigningKey(config.keysDir, now, retiredKeyGraceSeconds(config.tokenLifetimeSeconds));
  } catch (error) {
    if (error instanceof SigningKeysFileError) {
      printError(error.message);
      return 1;
    }
    throw error;
  }
  const previous = keys.all.find((key) => key.retiredAt?.getTime() === now.getTime());
  process.stdout.write(
    [
      `Rotated the dev tenant signing key in ${signingKeysFilePath(config.keysDir)}.`,
      `  new kid:      ${keys.current.kid}  (signs every token from now on)`,
      previous === undefined
        ? '  previous kid: none (this is the first key)'
        : `  previous kid: ${previous.kid}  (still published for ${grace})`,
      'What happens next:',
      '  - The running dev tenant serves the new key first from its next request on; no restart needed.',
      '  - The API fetches the new JWKS the first time it sees a token with the new kid (at most one such',
      '    fetch per 30 s: within 30 s of its last fetch, a new-kid token is refused until the window ends).',
      `  - Tokens signed with the previous key keep working for the grace period (${grace}).`,
      '',
    ].join('\n'),
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
