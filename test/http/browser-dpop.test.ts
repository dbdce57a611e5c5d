import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { messageBody } from '../../src/messages/messages.js';
import { dpopClientKey } from '../helpers/dpop.js';
import { boundToken } from '../helpers/dpop-harness.js';
import { freePort } from '../helpers/server-process.js';
import { type TestTenant, apiConfigFor, startTestTenant } from '../helpers/tenant.js';

/**
 * The browser path, in Debian's chromium (headless, --dump-dom): a page on the client origin signs
 * DPoP proofs with WebCrypto, as auth0-spa-js does, and calls the API cross-origin. The browser
 * must pass the preflight for `authorization, dpop`, let the page read `WWW-Authenticate` and
 * `DPoP-Nonce` from the use_dpop_nonce answer, and get 200 on the retry with the nonce.
 */
const CHROMIUM = '/usr/bin/chromium';
const PROTECTED = '/api/messages/protected';

// Runs in the page: the proof as RFC 9449 section 4.2 builds it, with WebCrypto only.
const PAGE_SCRIPT = String.raw`
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const text = (value) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
async function run() {
  const { privateJwk, publicJwk, token, api } = JSON.parse(document.getElementById('input').textContent);
  const key = await crypto.subtle.importKey('jwk', privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const ath = b64(await crypto.subtle.digest('SHA-256', text(token)));
  const proof = async (nonce) => {
    const input = b64(text({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })) + '.' +
      b64(text({ jti: crypto.randomUUID(), htm: 'GET', htu: api, iat: Math.floor(Date.now() / 1000), ath, ...(nonce ? { nonce } : {}) }));
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, text(input));
    return input + '.' + b64(signature);
  };
  const call = async (nonce) => fetch(api, { headers: { authorization: 'DPoP ' + token, dpop: await proof(nonce) } });
  const first = await call();
  const challenge = first.headers.get('www-authenticate');
  const nonce = first.headers.get('dpop-nonce');
  const retry = await call(nonce);
  return { first: first.status, challenge, nonce, retry: retry.status, body: await retry.text() };
}
run().then((result) => { document.getElementById('out').textContent = JSON.stringify(result); },
  (error) => { document.getElementById('out').textContent = JSON.stringify({ error: String(error) }); });
`;

const runChromium = (url: string, profileDir: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`, '--virtual-time-budget=10000', '--dump-dom', url,
    ];
    const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('close', () => { clearTimeout(timer); resolve(stdout); });
  });

describe('a browser client with DPoP (chromium)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let tenant: TestTenant;
  let app: FastifyInstance;
  let page: ReturnType<typeof createServer>;
  let pageUrl: string;
  let profileDir: string;

  before(async () => {
    tenant = await startTestTenant();
    const [apiPort, pagePort] = [await freePort(), await freePort()];
    const apiOrigin = `http://127.0.0.1:${String(apiPort)}`;
    const pageOrigin = `http://127.0.0.1:${String(pagePort)}`;
    const base = apiConfigFor(tenant.tenant.url);
    app = await buildApp({
      ...base,
      clientOriginUrl: pageOrigin,
      dpop: { ...base.dpop, origins: [apiOrigin], nonceSecret: 'a-test-secret-of-at-least-32-characters' },
    }, { replayStoreStartedAt: Date.now() - 60_000 }); // not about restarts: a store remembering for a minute
    await app.listen({ host: '127.0.0.1', port: apiPort });
    const key = await dpopClientKey();
    const input = {
      privateJwk: await exportJWK(key.privateKey), publicJwk: key.publicJwk, token: await boundToken(tenant, key, 'user'), api: `${apiOrigin}${PROTECTED}`,
    };
    const html = `<!doctype html><html><body><script type="application/json" id="input">${JSON.stringify(input)}</script>` +
      `<pre id="out">pending</pre><script>${PAGE_SCRIPT}</script></body></html>`;
    page = createServer((_request, response) => { response.writeHead(200, { 'content-type': 'text/html' }).end(html); });
    await new Promise<void>((resolve) => page.listen(pagePort, '127.0.0.1', resolve));
    pageUrl = `${pageOrigin}/`;
    profileDir = await mkdtemp(join(tmpdir(), 'hello-api-chromium-'));
  });
  after(async () => {
    page.closeAllConnections();
    await new Promise<void>((resolve) => page.close(() => { resolve(); }));
    await app.close();
    await tenant.close();
    await rm(profileDir, { recursive: true, force: true });
  });

  it('preflight for authorization and dpop passes, the page reads the nonce challenge, the retry gets 200', async () => {
    const dom = await runChromium(pageUrl, profileDir);
    const out = /<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1];
    assert.ok(out !== undefined && out !== 'pending', `no result in the page: ${dom.slice(0, 500)}`);
    const result = JSON.parse(out.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, unknown>;
    assert.equal(result['first'], 401, JSON.stringify(result));
    assert.match(String(result['challenge']), /DPoP realm="api", error="use_dpop_nonce"/);
    assert.match(String(result['nonce']), /^[\w-]{43}$/);
    assert.equal(result['retry'], 200, JSON.stringify(result));
    assert.equal(result['body'], JSON.stringify(messageBody('protected')));
  });
});
