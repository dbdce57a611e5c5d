import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RawAnswer, rawRequest } from '../helpers/raw-http.js';
import { type ServerProcess, freePort, startServerProcess } from '../helpers/server-process.js';
import { type TestTenant, startTestTenant } from '../helpers/tenant.js';

/**
 * What a real server process writes at LOG_LEVEL=info (issue 16, W11): credentials a client puts
 * in the request target (a token pasted into the path, the userinfo of an absolute-form target)
 * never reach the log, and X-Request-Id is adopted only when short and plain. Requests go over a
 * raw socket, as written: fetch would neither send absolute-form nor keep userinfo.
 */
const PASSWORD = 's3cr3t-Passw0rd';
let tenant: TestTenant;
let server: ServerProcess;
let port: number;
let token: string;
const answers: RawAnswer[] = [];

const get = async (target: string, ...headers: string[]): Promise<RawAnswer> => {
  const answer = await rawRequest(port, [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${String(port)}`, ...headers].join('\r\n'));
  answers.push(answer);
  return answer;
};
const idOf = (answer: RawAnswer): string => answer.headers['x-request-id'] ?? '';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

before(async () => {
  tenant = await startTestTenant();
  token = await tenant.token('admin');
  port = await freePort();
  server = await startServerProcess({
    AUTH0_DOMAIN: tenant.tenant.url,
    AUTH0_AUDIENCE: tenant.config.audience,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  await server.waitFor(({ stdout }) => stdout.includes('Server listening'), 30_000);
});
after(async () => {
  await server.stop('SIGTERM');
  await tenant.close();
});

describe('a credential in the request target (real process, LOG_LEVEL=info)', () => {
  it('sends the requests: a token in the path, userinfo in absolute-form targets', async () => {
    const [header = '', payload = '', signature = ''] = token.split('.');
    assert.equal((await get(`/api/messages/${token}`)).status, 404);
    assert.equal((await get(`/api/messages/protected/${token}/more?access_token=${token}`)).status, 404);
    assert.equal((await get(`/${header}.${payload}`)).status, 404);
    assert.equal((await get(`/Bearer%20${token}`)).status, 404);
    assert.equal((await get(`/x/${header}.${payload}.${signature}.extra.parts`)).status, 404);
    assert.equal((await get(`http://user:${PASSWORD}@127.0.0.1:${String(port)}/api/messages/public`)).status, 200);
    assert.equal((await get(`http://${PASSWORD}@127.0.0.1:${String(port)}/api/messages/${token}`)).status, 404);
    assert.equal((await get(`https://user:${PASSWORD}@api.example.com/api/messages/protected`, `Authorization: Bearer ${token}`)).status, 200);
    // An authority with a port past 65535: refused, and not logged either.
    assert.equal((await get(`http://user:${PASSWORD}@127.0.0.1:99999/api/messages/public`)).status, 400);
  });

  it('writes none of them to the log, and still logs each request, its target redacted', async () => {
    const [, payload = '', signature = ''] = token.split('.');
    await server.waitFor(({ stdout }) => answers.every((answer) => stdout.includes(`"reqId":"${idOf(answer)}"`)));
    const output = server.stdout + server.stderr;
    assert.ok(!output.includes(PASSWORD), 'no userinfo password in the log');
    assert.ok(!output.includes(signature), 'no token signature in the log');
    assert.ok(!output.includes(payload), 'no token payload in the log');
    const urls = server.stdout.trim().split('\n')
      .map((line) => JSON.parse(line) as { req?: { url?: string } })
      .flatMap((entry) => (entry.req?.url === undefined ? [] : [entry.req.url]));
    assert.ok(urls.includes('/api/messages/[redacted-jwt]'), urls.join('\n'));
    assert.ok(urls.includes('/Bearer%20[redacted-jwt]'), urls.join('\n'));
    assert.ok(urls.includes(`http://127.0.0.1:${String(port)}/api/messages/public`), urls.join('\n'));
    assert.ok(urls.includes('https://api.example.com/api/messages/protected'), urls.join('\n'));
  });
});

describe('X-Request-Id (real process)', () => {
  it('is adopted when it is 1-64 characters of [A-Za-z0-9._:-]', async () => {
    for (const id of ['a', 'lb-1234.abc:7_x', 'x'.repeat(64)]) {
      assert.equal(idOf(await get('/healthz', `X-Request-Id: ${id}`)), id);
    }
  });

  const refused: readonly (readonly [string, () => string[]])[] = [
    ['65 characters', () => [`X-Request-Id: ${'x'.repeat(65)}`]],
    ['a space', () => ['X-Request-Id: a b']],
    ['a slash', () => ['X-Request-Id: a/b']],
    ['an empty value', () => ['X-Request-Id:']],
    ['two headers', () => ['X-Request-Id: a', 'X-Request-Id: b']],
    // Last: the next test looks for its id in the log.
    ['a token prefix', () => [`X-Request-Id: ${token.slice(0, 60)}`]],
  ];
  for (const [name, headers] of refused) {
    it(`is replaced by a fresh UUID for ${name}`, async () => {
      assert.match(idOf(await get('/healthz', ...headers())), UUID);
    });
  }

  it('a refused id never reaches the log', async () => {
    const answer = answers.at(-1);
    assert.ok(answer !== undefined);
    await server.waitFor(({ stdout }) => stdout.includes(`"reqId":"${idOf(answer)}"`));
    assert.ok(!server.stdout.includes(token.slice(0, 60)));
  });
});
