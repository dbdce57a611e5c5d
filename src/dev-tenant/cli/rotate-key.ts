import { parseArgs } from 'node:util';
import { formatDuration } from '../banner.js';
import { retiredKeyGraceSeconds, rotateSigningKey, signingKeysFilePath, SigningKeysFileError } from '../signing-keys.js';
import { CliError, loadDevTenantConfig, runCli, usageError } from './cli.js';

/**
 * `npm run dev-tenant:rotate-key`: replaces the dev tenant's signing key, as a key rotation
 * in the Auth0 dashboard does. Works whether or not the API is running.
 */

const USAGE = `Usage: npm run dev-tenant:rotate-key

Creates a new signing key for the dev tenant; the previous one stays published for a grace period.`;

async function main(args: readonly string[]): Promise<void> {
  let help: boolean;
  try {
    help = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help === true;
  } catch (error) {
    throw usageError(error, USAGE);
  }
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadDevTenantConfig('rotate keys in the Auth0 dashboard (Settings > Signing Keys).');

  const now = new Date();
  const grace = formatDuration(retiredKeyGraceSeconds(config.tokenLifetimeSeconds));
  let keys: Awaited<ReturnType<typeof rotateSigningKey>>;
  try {
    keys = await rotateSigningKey(config.keysDir, now, retiredKeyGraceSeconds(config.tokenLifetimeSeconds));
  } catch (error) {
    if (error instanceof SigningKeysFileError) throw new CliError(error.message, 1);
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
}

await runCli('dev-tenant:rotate-key', main);
