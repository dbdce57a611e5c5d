import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { findDevTenantClient } from '../grants/client-credentials.js';
import { type DpopSigner, createDpopSigner } from '../dpop-client.js';
import { requestToken, TenantUnreachableError, TokenRequestError } from '../token-request.js';
import { CliError, loadConfigWithDevTenant, runCli, tenantUnreachableError, usageError } from './cli.js';

/**
 * `npm run call -- /api/messages/admin --admin --dpop`: one real call to the running API, end to
 * end, with a token from the running dev tenant. With --dpop it does what a DPoP client does
 * (RFC 9449): makes a key, asks /oauth/token for a token bound to it with a proof, then calls
 * the API with `Authorization: DPoP` and a fresh proof, retrying once with the server's nonce if
 * asked (use_dpop_nonce), and once after the Retry-After of a 503 (a replay store that just started). Prints the status, then the body, on stdout; what it did on stderr.
 */

const USAGE = `Usage: npm run -s call -- <path> [--admin] [--dpop]

Calls the running API (start it with npm start) with a token from the dev tenant and prints the
status and the body.
  <path>    e.g. /api/messages/protected or /api/messages/admin
  --admin   use the admin client (its token carries read:admin-messages)
  --dpop    get a DPoP-bound token and call with a DPoP proof instead of Bearer
  --help    show this help`;

const OPTIONS = {
  admin: { type: 'boolean' },
  dpop: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * An API whose replay store has just started (a restart) holds fresh DPoP proofs back for a few
 * seconds with 503 and Retry-After (README, Restarts): waited once, as a DPoP client should, so
 * `npm start` followed at once by `npm run call -- ... --dpop` works.
 */
const MAX_RETRY_AFTER_SECONDS = 15;

async function callApi(url: URL, token: string, signer: DpopSigner | undefined): Promise<Response> {
  const response = await callWithNonce(url, token, signer);
  const wait = Number(response.headers.get('retry-after'));
  if (signer === undefined || response.status !== 503 || !Number.isInteger(wait) || wait < 1 || wait > MAX_RETRY_AFTER_SECONDS) return response;
  process.stderr.write(`The API asked to wait ${String(wait)} s (its DPoP replay store has just started); retrying with a fresh proof.\n`);
  await response.arrayBuffer();
  await sleep(wait * 1000);
  return callWithNonce(url, token, signer);
}

async function callWithNonce(url: URL, token: string, signer: DpopSigner | undefined): Promise<Response> {
  const htu = `${url.origin}${url.pathname}`;
  const send = async (nonce?: string) =>
    fetch(url, {
      headers: signer === undefined
        ? { authorization: `Bearer ${token}` }
        : {
            authorization: `DPoP ${token}`,
            dpop: await signer.proof({ htm: 'GET', htu, accessToken: token, ...(nonce !== undefined && { nonce }) }),
          },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  const response = await send();
  const nonce = response.headers.get('dpop-nonce');
  if (signer !== undefined && response.status === 401 && nonce !== null && /use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')) {
    process.stderr.write('The API asked for a DPoP nonce; retrying with it.\n');
    await response.arrayBuffer();
    return send(nonce);
  }
  return response;
}

async function main(args: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageError(error, USAGE);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0 || !path.startsWith('/')) {
    throw new CliError(`give exactly one path starting with /, e.g. /api/messages/admin\n\n${USAGE}`, 2);
  }
  const config = loadConfigWithDevTenant('call your API with a token from your Auth0 tenant instead.');
  const client = findDevTenantClient(config.devTenant, flags.admin === true);
  const signer = flags.dpop === true ? await createDpopSigner() : undefined;
  const tenantUrl = config.devTenant.url;

  let token;
  try {
    const proof = await signer?.proof({ htm: 'POST', htu: `${tenantUrl}/oauth/token` });
    const credentials = { clientId: client.clientId, clientSecret: client.clientSecret, audience: config.devTenant.audience };
    token = await requestToken(tenantUrl, credentials, 'json', { dpopProof: proof });
  } catch (error) {
    if (error instanceof TenantUnreachableError) {
      throw tenantUnreachableError(tenantUrl);
    }
    if (error instanceof TokenRequestError) throw new CliError(error.message, 1);
    throw error;
  }
  // The first origin the API takes proofs for: http://localhost:PORT unless API_ORIGIN says otherwise.
  const url = new URL(path, config.dpop.origins[0] ?? `http://localhost:${String(config.port)}`);
  process.stderr.write(`${token.token_type} token for ${client.name}; GET ${url.href}\n`);
  let response;
  try {
    response = await callApi(url, token.access_token, signer);
  } catch {
    throw new CliError(
      `no API answers at ${url.origin}: is it running? start it with npm start ` +
        '(if it runs with another PORT or API_ORIGIN, give this command the same value, in .env or the environment)',
      1,
    );
  }
  process.stdout.write(`${String(response.status)}\n${await response.text()}\n`);
  if (!response.ok) process.exitCode = 1;
}

await runCli('call', main);
