import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { isLoopbackHost } from '../../src/config/env-rules.js';
import { messageBody } from '../../src/messages/messages.js';
import { apiConfigFor, startTestTenant, type TestTenant } from '../helpers/tenant.js';

/**
 * End to end in a real browser: Debian's Chromium driven by playwright-core, Auth0's own
 * @auth0/auth0-spa-js on a small page served from a loopback origin, the dev tenant and the API.
 * Every step has its own time limit; everything started here is closed in t.after.
 */

const CHROMIUM = '/usr/bin/chromium';
const IN_CI = !['', '0', 'false', undefined].includes(process.env.CI?.toLowerCase());
// Skipped only on a developer machine without Chromium; in CI a missing browser is a failure.
const SKIP = !existsSync(CHROMIUM) && !IN_CI ? `${CHROMIUM} is not installed (apt-get install chromium); CI=true makes this a failure` : false;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STEP_MS = 60_000;
const SPA_JS = fileURLToPath(new URL('../../node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js', import.meta.url));

/** A step that must end within `ms`, named in the failure. */
async function step<T>(what: string, work: Promise<T>, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`step timed out after ${String(ms)} ms: ${what}`)); }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PageSettings {
  readonly tenantUrl: string;
  readonly clientId: string;
  readonly audience: string;
  readonly apiUrl: string;
}

/**
 * The test SPA: creates the SDK client as the Hello World SPAs do (refresh tokens on, falling back
 * to silent authentication in an iframe), finishes the callback, and exposes helpers for the test.
 */
function spaPage(settings: PageSettings): string {
  const json = JSON.stringify(settings).replaceAll('<', '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>test SPA</title>
<script src="/auth0-spa-js.production.js"></script></head><body><p id="state">loading</p><script>
const settings = ${json};
window.ready = (async () => {
  const client = await auth0.createAuth0Client({
    domain: settings.tenantUrl,
    clientId: settings.clientId,
    authorizationParams: {
      redirect_uri: location.origin + '/callback',
      audience: settings.audience,
      scope: 'openid profile email offline_access',
    },
    useRefreshTokens: true,
    useRefreshTokensFallback: true,
  });
  window.client = client;
  if (location.pathname === '/callback') {
    await client.handleRedirectCallback();
    history.replaceState({}, '', '/');
  }
  document.getElementById('state').textContent = 'ready';
  return client.isAuthenticated();
})();
window.callApi = async (path) => {
  const token = await window.client.getTokenSilently();
  const response = await fetch(settings.apiUrl + path, { headers: { authorization: 'Bearer ' + token } });
  return { status: response.status, body: await response.json() };
};
window.silentError = async () => {
  try {
    await window.client.getTokenSilently({ cacheMode: 'off' });
    return null;
  } catch (error) {
    return error.error || String(error);
  }
};
</script></body></html>`;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => { resolve(); }));
}

interface Stack {
  readonly tt: TestTenant;
  readonly origin: string;
  readonly apiUrl: string;
  readonly page: Page;
  readonly context: BrowserContext;
  /** Requests to anything not on loopback (blocked): must stay empty. */
  readonly offMachine: string[];
}

/** Page server, dev tenant for that origin, API, and a fresh Chromium profile; all closed in t.after. */
async function startStack(t: TestContext): Promise<Stack> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required under CI (apt-get install chromium)`);
  // Closed last-started first: the browser before the servers it holds connections to.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  // Known once the tenant and the API run, which need the page's origin first.
  const served: { settings?: PageSettings } = {};
  const spaJs = readFileSync(SPA_JS);
  const pageServer = createServer((request, response) => {
    if (request.url === '/auth0-spa-js.production.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(spaJs);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(spaPage(served.settings ?? {
      tenantUrl: '', clientId: '', audience: '', apiUrl: '',
    }));
  });
  const pagePort = await listen(pageServer);
  cleanups.push(() => closeServer(pageServer));
  const origin = `http://localhost:${String(pagePort)}`;

  // The SPA client's callback, logout URL and web origin follow CLIENT_ORIGIN_URL: this page.
  const tt = await startTestTenant({ env: { CLIENT_ORIGIN_URL: origin } });
  cleanups.push(() => tt.close());
  const api = await buildApp(apiConfigFor(tt.tenant.url, { clientOriginUrl: origin }, tt.config.audience));
  await api.listen({ host: 'localhost', port: 0 });
  cleanups.push(() => api.close());
  const apiUrl = `http://localhost:${String((api.server.address() as AddressInfo).port)}`;
  served.settings = { tenantUrl: tt.tenant.url, clientId: tt.config.spa.clientId, audience: tt.config.audience, apiUrl };

  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));
  const context = await step(
    'launch Chromium',
    chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: STEP_MS }),
  );
  cleanups.push(() => context.close());
  const offMachine: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || isLoopbackHost(url.hostname.replace(/^\[(.*)\]$/, '$1'))) return route.continue();
    offMachine.push(url.href);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // DEBUG_BROWSER=1 prints the page's navigations, responses and console, to see where a step stalls.
  if (process.env.DEBUG_BROWSER) {
    page.on('framenavigated', (frame) => { console.log('nav', frame === page.mainFrame() ? 'main' : 'frame', frame.url()); });
    page.on('console', (message) => { console.log('console', message.text()); });
    page.on('requestfailed', (request) => { console.log('failed', request.url(), request.failure()?.errorText); });
    page.on('response', (response) => { console.log('response', response.status(), response.url().slice(0, 120)); });
  }
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  return { tt, origin, apiUrl, page, context, offMachine };
}

interface SpaWindow {
  ready: Promise<boolean>;
  client: {
    loginWithRedirect(): Promise<void>;
    logout(options: unknown): Promise<void>;
    isAuthenticated(): Promise<boolean>;
    getTokenSilently(options?: unknown): Promise<string>;
  };
  callApi(path: string): Promise<{ status: number; body: { message?: string } }>;
  silentError(): Promise<string | null>;
}

/** Waits for the SDK client on the current page; true when signed in. */
function ready(page: Page): Promise<boolean> {
  return step('the SPA starts', page.evaluate(() => (globalThis as unknown as SpaWindow).ready));
}

function callApi(page: Page, path: string) {
  return step(`call ${path}`, page.evaluate((target) => (globalThis as unknown as SpaWindow).callApi(target), path));
}

/** loginWithRedirect, then the tenant's login page, then the user's button, back on the SPA. */
async function logIn(stack: Stack, email: string): Promise<void> {
  const { page, origin, tt } = stack;
  await step('loginWithRedirect reaches the login page', Promise.all([
    page.waitForURL(`${tt.tenant.url}/u/login?**`),
    page.evaluate(() => { void (globalThis as unknown as SpaWindow).client.loginWithRedirect(); }),
  ]));
  await step(`log in as ${email}`, Promise.all([
    page.waitForURL(`${origin}/`),
    page.getByRole('button', { name: new RegExp(email.replace('.', '\\.')) }).click(),
  ]));
  assert.equal(await ready(page), true, 'signed in after the callback');
}

function isTokenRequest(grantType: string) {
  return (request: Request) =>
    request.url().endsWith('/oauth/token') && request.method() === 'POST' && new URLSearchParams(request.postData() ?? '').get('grant_type') === grantType;
}

describe('browser sign-in with auth0-spa-js in Chromium', { skip: SKIP }, () => {
  it('admin signs in, calls /admin, refreshes, survives a reload, signs out; the plain user gets 403', { timeout: 600_000 }, async (t) => {
    const stack = await startStack(t);
    const { page, origin, tt } = stack;
    await step('open the SPA', page.goto(origin));
    assert.equal(await ready(page), false, 'signed out at first');

    // loginWithRedirect -> login page -> admin -> callback; getTokenSilently; /admin answers 200.
    await logIn(stack, 'admin@example.com');
    assert.deepEqual(await callApi(page, '/api/messages/admin'), { status: 200, body: messageBody('admin') });

    // A refresh token is used and rotated.
    const [refreshRequest] = await step('refresh the token', Promise.all([
      page.waitForRequest(isTokenRequest('refresh_token')),
      page.evaluate(() => (globalThis as unknown as SpaWindow).client.getTokenSilently({ cacheMode: 'off' })),
    ]));
    const refreshResponse = await step('the refresh answer', refreshRequest.response());
    const refreshBody: unknown = await refreshResponse?.json();
    const presented = new URLSearchParams(refreshRequest.postData() ?? '').get('refresh_token');
    assert.ok(presented !== null && typeof refreshBody === 'object' && refreshBody !== null && 'refresh_token' in refreshBody);
    assert.equal(typeof refreshBody.refresh_token, 'string');
    assert.notEqual(refreshBody.refresh_token, presented, 'rotated');
    const reuse = await fetch(`${tt.tenant.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: tt.config.spa.clientId, refresh_token: presented }).toString(),
    });
    assert.equal(reuse.status, 403, 'the retired refresh token is refused');

    // A reload: tokens were in memory only; the SDK signs in again through web_message, quickly.
    const silent: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/authorize' && url.searchParams.get('response_mode') === 'web_message') silent.push(url.searchParams.get('prompt') ?? '');
    });
    const started = performance.now();
    await step('reload', page.reload());
    assert.equal(await step('signed in again after the reload', page.evaluate(() => (globalThis as unknown as SpaWindow).ready), 30_000), true);
    const elapsed = performance.now() - started;
    // Silent, not a new login (asserted below); the bound only catches a hang, with room for a loaded machine.
    assert.ok(elapsed < 30_000, `reload to signed in took ${String(Math.round(elapsed))} ms`);
    assert.deepEqual(silent, ['none'], 'one silent authentication (prompt=none, web_message)');
    assert.equal((await callApi(page, '/api/messages/admin')).status, 200);

    // logout ends the tenant session: back on the SPA signed out, and silent authentication fails.
    // The page is already at `${origin}/`, so wait for the logout answer and the new document instead of the URL.
    await step('logout', Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/v2/logout' && response.status() === 302),
      page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame() && frame.url() === `${origin}/`),
      page.evaluate((returnTo) => { void (globalThis as unknown as SpaWindow).client.logout({ logoutParams: { returnTo } }); }, origin),
    ]));
    await step('the SPA loads after logout', page.waitForLoadState('load'));
    assert.equal(await ready(page), false, 'signed out');
    assert.equal(await step('silent authentication after logout', page.evaluate(() => (globalThis as unknown as SpaWindow).silentError())), 'login_required');

    // The plain user: /protected yes, /admin 403.
    await logIn(stack, 'user@example.com');
    assert.equal((await callApi(page, '/api/messages/protected')).status, 200);
    const admin = await callApi(page, '/api/messages/admin');
    assert.equal(admin.status, 403);

    assert.deepEqual(stack.offMachine, [], 'nothing left the machine');
  });
});
