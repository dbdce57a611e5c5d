/**
 * `npm run load-test`: a soak of mixed valid and invalid traffic against the built API, for the
 * hardening issue. Not a CI assertion: a script a person runs and reads.
 *
 * Builds dist, starts a dev tenant on 127.0.0.1, runs `node --trace-gc dist/server.js`
 * (NODE_ENV=production, LOG_LEVEL=warn) on a free loopback port and drives it with autocannon
 * for LOAD_DURATION seconds (60) over LOAD_CONNECTIONS connections (50). Every connection cycles
 * through valid user/admin tokens, a pool of LOAD_UNIQUE_TOKENS distinct valid tokens (2000, to
 * fill the verified-token cache), garbage, missing and malformed headers, expired, wrong-audience,
 * bad-signature and unknown-kid tokens, a user token on /admin, unknown routes and wrong methods.
 *
 * Reports counts by kind and status, socket errors and timeouts (must be 0), 5xx (must be 0),
 * any status other than the expected one, and memory: RSS sampled from /proc every second, and
 * the V8 heap after each GC from --trace-gc. Exits 1 if anything above is not clean.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type JWTPayload, SignJWT } from 'jose';
import { loadOrCreateSigningKeys } from '../src/dev-tenant/index.js';
import { int, mb, table } from './lib/format.js';
import { installCleanup, sampleMemory } from './lib/processes.js';
import { startBenchTenant } from './lib/tenant.js';
import { envInt, startProductionApi } from './lib/api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');


const DURATION = envInt('LOAD_DURATION', 60, 5, 3_600);
const CONNECTIONS = envInt('LOAD_CONNECTIONS', 50, 1, 1_000);
const UNIQUE_TOKENS = envInt('LOAD_UNIQUE_TOKENS', 2_000, 1, 50_000);

interface Kind {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly expect: number;
  /** Authorization header value, or a function giving the next one (token pools). */
  readonly authorization?: string | (() => string);
}

interface Tally {
  readonly byStatus: Map<number, number>;
  count: number;
  unexpected: number;
}

/** A GC line of --trace-gc: `... Mark-Compact 12.3 (20.1) -> 10.2 (19.0) MB, ...` (heap used after GC). */
const GC_LINE = /(Scavenge|Mark-Compact|Mark-sweep)[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

async function main(): Promise<void> {
  installCleanup();
  console.log('building (npm run build)...');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const tenant = await startBenchTenant();
  const { current } = await loadOrCreateSigningKeys(tenant.keysDir);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: JWTPayload, kid = current.kid): Promise<string> =>
    new SignJWT({ iss: tenant.tenant.issuer, aud: tenant.audience, iat: now, exp: now + 3_600, permissions: [], ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .sign(current.privateKey);

  console.log(`signing ${String(UNIQUE_TOKENS)} distinct valid tokens...`);
  const pool: string[] = [];
  for (let i = 0; i < UNIQUE_TOKENS; i += 1) pool.push(await sign({ sub: `load-test-${String(i)}@clients` }));
  let next = 0;
  const pooled = (): string => `Bearer ${pool[(next += 1) % pool.length] ?? ''}`;
  const valid = await sign({ sub: 'load-test@clients' });
  const badSignature = `${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

  const kinds: Kind[] = [
    { name: 'public', method: 'GET', path: '/api/messages/public', expect: 200 },
    { name: 'user token /protected', method: 'GET', path: '/api/messages/protected', expect: 200, authorization: `Bearer ${tenant.userToken}` },
    { name: 'admin token /admin', method: 'GET', path: '/api/messages/admin', expect: 200, authorization: `Bearer ${tenant.adminToken}` },
    { name: `pool of ${String(UNIQUE_TOKENS)} tokens /protected`, method: 'GET', path: '/api/messages/protected', expect: 200, authorization: pooled },
    { name: 'user token /admin', method: 'GET', path: '/api/messages/admin', expect: 403, authorization: `Bearer ${tenant.userToken}` },
    { name: 'missing header', method: 'GET', path: '/api/messages/protected', expect: 401 },
    { name: 'Basic scheme', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: 'Basic dXNlcjpwYXNz' },
    { name: 'garbage token', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: 'Bearer not.a.jwt' },
    { name: 'Bearer without token', method: 'GET', path: '/api/messages/protected', expect: 400, authorization: 'Bearer' },
    { name: 'expired token', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: `Bearer ${await sign({ iat: now - 7_200, exp: now - 3_600 })}` },
    { name: 'wrong audience', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: `Bearer ${await sign({ aud: 'https://other.example.com' })}` },
    { name: 'bad signature', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: `Bearer ${badSignature}` },
    { name: 'unknown kid', method: 'GET', path: '/api/messages/protected', expect: 401, authorization: `Bearer ${await sign({}, 'no-such-kid')}` },
    { name: 'unknown route', method: 'GET', path: '/api/messages/nope', expect: 404 },
    { name: 'wrong method', method: 'POST', path: '/api/messages/public', expect: 405 },
  ];
  const tallies = new Map<string, Tally>(kinds.map((kind) => [kind.name, { byStatus: new Map(), count: 0, unexpected: 0 }]));

  const server = await startProductionApi(tenant, join(ROOT, 'dist', 'server.js'), ['--trace-gc']);
  const memory = sampleMemory(server.pid, 1_000);
  console.log(`API on ${server.baseUrl} (pid ${String(server.pid)}); ${String(DURATION)} s, ${String(CONNECTIONS)} connections, ${String(kinds.length)} kinds of request`);

  const requests: autocannon.Request[] = kinds.map((kind) => {
    const tally = tallies.get(kind.name);
    const headerFor = kind.authorization;
    return {
      method: kind.method,
      path: kind.path,
      ...(typeof headerFor === 'string' && { headers: { authorization: headerFor } }),
      ...(typeof headerFor === 'function' && {
        setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, authorization: headerFor() } }),
      }),
      onResponse: (status: number) => {
        if (tally === undefined) return;
        tally.count += 1;
        tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
        if (status !== kind.expect) tally.unexpected += 1;
      },
    };
  });
  const result = await autocannon({ url: server.baseUrl, connections: CONNECTIONS, duration: DURATION, requests });
  memory.stop();
  const serverAlive = server.child.exitCode === null && server.child.signalCode === null;
  await server.stop();
  await tenant.close();

  const rows = kinds.map((kind) => {
    const tally = tallies.get(kind.name) ?? { byStatus: new Map<number, number>(), count: 0, unexpected: 0 };
    const statuses = [...tally.byStatus].sort((a, b) => a[0] - b[0]).map(([status, count]) => `${String(status)}: ${int(count)}`).join(', ');
    return [kind.name, `${kind.method} ${kind.path}`, String(kind.expect), int(tally.count), statuses, int(tally.unexpected)];
  });
  console.log(`\n${table(['kind', 'request', 'expect', 'count', 'by status', 'unexpected'], rows)}`);

  const unexpected = [...tallies.values()].reduce((sum, tally) => sum + tally.unexpected, 0);
  console.log(
    `\n${int(result.requests.total)} requests in ${String(result.duration)} s (${int(result.requests.average)} req/s), ` +
      `p50 ${String(result.latency.p50)} ms, p99 ${String(result.latency.p99)} ms, max ${String(result.latency.max)} ms`,
  );
  console.log(`socket errors ${String(result.errors)}, timeouts ${String(result.timeouts)}, 5xx ${String(result['5xx'])}, unexpected statuses ${String(unexpected)}`);

  // Memory: RSS once warm (after 5 s) against the end; heap used after GC from --trace-gc.
  const warm = memory.samples.find((sample) => sample.atMs >= 5_000) ?? memory.samples[0];
  const last = memory.samples.at(-1);
  const timeline = memory.samples
    .filter((_sample, index) => index % 10 === 0)
    .map((sample) => `${(sample.atMs / 1000).toFixed(0)} s ${mb(sample.rss)}`)
    .join(', ');
  console.log(`RSS: at 5 s ${mb(warm?.rss ?? Number.NaN)}, at end ${mb(last?.rss ?? Number.NaN)}, peak ${mb(memory.peak())}; every 10 s: ${timeline}`);
  const gcs = server.output.map((line) => GC_LINE.exec(line)).filter((match) => match !== null);
  const fullGcs = gcs.filter((match) => match[1] !== 'Scavenge');
  const heapAfter = (match: RegExpExecArray | undefined): string => (match === undefined ? '–' : `${match[4] ?? '?'} MB`);
  console.log(
    `V8 heap used after GC (--trace-gc): ${String(gcs.length)} GCs (${String(fullGcs.length)} mark-compact); ` +
      `after the first mark-compact ${heapAfter(fullGcs[0])}, after the last ${heapAfter(fullGcs.at(-1))}; after the last GC ${heapAfter(gcs.at(-1))}`,
  );

  const problems = [
    result.errors > 0 && `${String(result.errors)} socket errors`,
    result.timeouts > 0 && `${String(result.timeouts)} timeouts`,
    result['5xx'] > 0 && `${String(result['5xx'])} 5xx responses`,
    unexpected > 0 && `${String(unexpected)} unexpected statuses`,
    !serverAlive && 'the server exited during the run',
  ].filter((problem) => problem !== false);
  if (problems.length > 0) throw new Error(problems.join(', '));
  console.log('\nclean: no socket errors, no 5xx, every response had the expected status');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nLOAD TEST FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
