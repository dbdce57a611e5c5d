/**
 * `npm run bench`: builds the production output, starts one dev tenant on 127.0.0.1, fetches a
 * user and an admin token from it over HTTP, then benchmarks in turn (A B C A B C ...):
 *   api                this API, `node dist/server.js` (NODE_ENV=production, LOG_LEVEL=warn), 1 worker, Bearer paths
 *   api-dpop           the same, path dpop only (so each peak RSS belongs to its own paths)
 *   api-uncached       the same, path uncached only: a distinct valid token per request, so every request verifies RSA
 *   api-2w             the same with WEB_CONCURRENCY=2 (and DPOP=disabled: several workers need REDIS_URL for DPoP)
 *   ceiling-same-bytes bare node:http sending byte for byte the API's /protected 200 (captured)
 *   ceiling            bare node:http, same JSON, no auth, no extra headers (bench/servers/ceiling.mjs)
 *   peer               Auth0's sample stack on Express (bench/servers/express-peer.mjs)
 * each a child process on a free loopback port, all verifying the same tenant's tokens.
 * Path `dpop` is GET /api/messages/protected with a DPoP-bound token and a fresh proof per request
 * (api-dpop and peer; the peer's express-oauth2-jwt-bearer checks DPoP by default). Proofs are made
 * before each run (bench/lib/dpop-proofs.ts), sized from the warm-up's rate, and the run sends
 * exactly that many (autocannon `amount`); its req/s is requests / elapsed time. Path `uncached` is
 * GET /api/messages/protected with a distinct valid Bearer token per request (api-uncached and
 * peer), minted before each run with the tenant's key (bench/lib/tenant.ts) and sized the same way:
 * what the first requests of many clients cost, which no verified-token cache can help.
 *
 * Settings (env): BENCH_ROUNDS (3), BENCH_DURATION seconds per run (10), BENCH_WARMUP seconds
 * per path before measuring (2), BENCH_CONNECTIONS (50), BENCH_COLD_STARTS (5),
 * BENCH_TARGETS (comma list, default all but api-base), BENCH_PIN=1 (load generator on CPU 0,
 * servers on the other CPUs, with taskset).
 * BENCH_BASELINE_DIST: a copy of an earlier dist/ to run as target `api-base`, interleaved with
 * `api`, to measure one change. dist/ is self-contained (server.js and its chunks), so the copy can live anywhere,
 * e.g. `cp -r dist node_modules/.cache/dist-base`, change, BENCH_BASELINE_DIST=node_modules/.cache/dist-base
 * BENCH_TARGETS=api-base,api npm run bench). BENCH_BASE_ENV adds variables to api-base only, to
 * measure a setting instead of a change (e.g. BENCH_BASE_ENV=TOKEN_CACHE_MAX_ENTRIES=0 with
 * BENCH_BASELINE_DIST=dist).
 * Flags: --markdown rewrites the results section of BENCHMARKS.md;
 *        --from <results.json> renders (and with --markdown writes) saved results without running.
 */
import { execFileSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGES } from '../src/messages/messages.js';
import { int, mb, median, ms, percent, ratio, table } from './lib/format.js';
import { type LoadResult, runLoad, uncleanRun } from './lib/load.js';
import { cpuTimeMs, freePort, installCleanup, onExit, pinThisProcess, sampleMemory, startServer } from './lib/processes.js';
import { makeProofs } from './lib/dpop-proofs.js';
import { startBenchTenant } from './lib/tenant.js';

/** DPoP proofs per second of warm-up (and of the run when there is no warm-up) before a rate is known. */
const DPOP_DEFAULT_RPS = 1_500;
import { envInt } from './lib/api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const MARKDOWN_FILE = join(ROOT, 'BENCHMARKS.md');
const MARK_START = '<!-- bench-results:start -->';
const MARK_END = '<!-- bench-results:end -->';

type PathName = 'public' | 'protected' | 'admin' | 'dpop' | 'uncached';
const PATHS: readonly PathName[] = ['public', 'protected', 'admin', 'dpop', 'uncached'];
/** The URL path a bench path calls. */
const urlPath = (path: PathName): string => `/api/messages/${path === 'dpop' || path === 'uncached' ? 'protected' : path}`;
type TargetName = 'api' | 'api-base' | 'api-dpop' | 'api-uncached' | 'api-2w' | 'ceiling-same-bytes' | 'ceiling' | 'peer';
const ALL_TARGETS: readonly TargetName[] = ['api', 'api-base', 'api-dpop', 'api-uncached', 'api-2w', 'ceiling-same-bytes', 'ceiling', 'peer'];
const DEFAULT_TARGETS: readonly TargetName[] = ['api', 'api-dpop', 'api-uncached', 'api-2w', 'ceiling-same-bytes', 'ceiling', 'peer'];

interface Settings {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly coldStarts: number;
  readonly targets: readonly TargetName[];
  /** Load generator pinned to CPU 0 and servers to the others (taskset). */
  readonly pinned: boolean;
}

interface RunRecord extends LoadResult {
  readonly round: number;
  readonly target: TargetName;
  readonly path: PathName;
  /** Server CPU time (user + system, all its processes) per request served, in microseconds. */
  readonly cpuUsPerRequest: number;
}

interface ServerRecord {
  readonly round: number;
  readonly target: TargetName;
  readonly peakRssBytes: number;
}

interface Results {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: { readonly nproc: number; readonly cpuModel: string; readonly node: string; readonly kernel: string };
  readonly settings: Settings;
  readonly runs: readonly RunRecord[];
  readonly servers: readonly ServerRecord[];
  readonly coldStartsMs: Partial<Record<TargetName, number[]>>;
}


function readSettings(): Settings {
  const targets = (process.env.BENCH_TARGETS ?? DEFAULT_TARGETS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of targets) {
    if (!(ALL_TARGETS as readonly string[]).includes(name)) throw new Error(`BENCH_TARGETS: unknown target "${name}"`);
  }
  if (targets.includes('api-base') && (process.env.BENCH_BASELINE_DIST ?? '') === '') {
    throw new Error('target api-base needs BENCH_BASELINE_DIST (a copy of an earlier dist/)');
  }
  return {
    rounds: envInt('BENCH_ROUNDS', 3, 1, 20),
    durationSeconds: envInt('BENCH_DURATION', 10, 1, 120),
    warmupSeconds: envInt('BENCH_WARMUP', 2, 0, 30),
    connections: envInt('BENCH_CONNECTIONS', 50, 1, 1_000),
    coldStarts: envInt('BENCH_COLD_STARTS', 5, 0, 20),
    targets: targets as TargetName[],
    pinned: envInt('BENCH_PIN', 0, 0, 1) === 1,
  };
}

interface Target {
  readonly name: TargetName;
  readonly paths: readonly PathName[];
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The exact body the target sends for a path. */
  body(path: PathName): string;
}

/** BENCH_BASE_ENV="A=1,B=2": extra variables for api-base. */
function baseEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_BASE_ENV ?? '').split(',').filter((pair) => pair.includes('='));
  return Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]));
}

/** What the API sends for a 200 on /protected, for the same-bytes ceiling (bench/servers/ceiling-same-bytes.mjs). */
interface CapturedResponse {
  readonly status: number;
  /** In the order sent, without the ones node:http adds itself (Date, Connection, Keep-Alive). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

const NODE_ADDED_HEADERS = new Set(['date', 'connection', 'keep-alive']);

function captureResponse(url: string, token: string): Promise<CapturedResponse> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i] ?? '';
          if (!NODE_ADDED_HEADERS.has(name.toLowerCase())) headers.push([name, res.rawHeaders[i + 1] ?? '']);
        }
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
  });
}

function targetsFor(tenantUrl: string, audience: string, sameBytes: CapturedResponse | undefined): Record<TargetName, Target> {
  const apiEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    // No drain window: the bench stops servers between runs (SIGKILL after 5 s), and a profile is written at exit.
    SHUTDOWN_DRAIN_SECONDS: '0',
    AUTH0_DOMAIN: tenantUrl,
    AUTH0_AUDIENCE: audience,
    // The bench tenant runs on plain-http loopback, which production refuses unless told.
    ALLOW_LOOPBACK_ISSUER: 'true',
    HOST: '127.0.0.1',
  };
  const message = (path: PathName): string => MESSAGES[path === 'dpop' || path === 'uncached' ? 'protected' : path];
  const compact = (path: PathName): string => JSON.stringify({ message: message(path), text: message(path) });
  const api = { paths: PATHS, args: [join(ROOT, 'dist', 'server.js')], body: compact };
  return {
    // The Bearer paths; DPoP runs in its own process (api-dpop), so each peak RSS is its own path's.
    api: { name: 'api', ...api, paths: ['public', 'protected', 'admin'], env: { ...apiEnv, WEB_CONCURRENCY: '1' } },
    'api-dpop': { name: 'api-dpop', ...api, paths: ['dpop'], env: { ...apiEnv, WEB_CONCURRENCY: '1' } },
    'api-base': {
      name: 'api-base',
      ...api,
      // An earlier build may not take DPoP: the base compares the Bearer paths.
      paths: ['public', 'protected', 'admin'],
      args: [resolve(process.env.BENCH_BASELINE_DIST ?? 'dist', 'server.js')],
      env: { ...apiEnv, WEB_CONCURRENCY: '1', ...baseEnv() },
    },
    // Default settings, verified-token cache on: every token is new, so each one is checked and cached.
    'api-uncached': { name: 'api-uncached', ...api, paths: ['uncached'], env: { ...apiEnv, WEB_CONCURRENCY: '1' } },
    'api-2w': { name: 'api-2w', ...api, paths: ['public', 'protected', 'admin'], env: { ...apiEnv, WEB_CONCURRENCY: '2', DPOP: 'disabled' } },
    'ceiling-same-bytes': {
      name: 'ceiling-same-bytes',
      paths: ['protected'],
      args: [join(ROOT, 'bench', 'servers', 'ceiling-same-bytes.mjs')],
      env: { SAME_BYTES_RESPONSE: JSON.stringify(sameBytes ?? null) },
      body: compact,
    },
    ceiling: { name: 'ceiling', paths: ['protected'], args: [join(ROOT, 'bench', 'servers', 'ceiling.mjs')], env: {}, body: compact },
    peer: {
      name: 'peer',
      paths: PATHS,
      args: [join(ROOT, 'bench', 'servers', 'express-peer.mjs')],
      env: { ISSUER_BASE_URL: tenantUrl, AUDIENCE: audience, HOST: '127.0.0.1' },
      // The sample sets `json spaces` to 2.
      body: (path) => JSON.stringify({ message: message(path) }, null, 2),
    },
  };
}

/**
 * A clean environment: no NODE_OPTIONS (tsx's loader) or other settings leak into the servers.
 * API_ORIGIN is the URL the load generator calls, so DPoP proofs name it (the others ignore it).
 */
function childEnv(extra: Record<string, string>, port: number): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...extra, PORT: String(port), API_ORIGIN: `http://127.0.0.1:${String(port)}` };
}

function machine(): Results['machine'] {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux
  }
  return { nproc: cpus().length, cpuModel, node: process.version, kernel };
}

async function run(settings: Settings): Promise<Results> {
  const startedAt = new Date().toISOString();
  installCleanup();
  console.log('building (npm run build)...');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  const tenant = await startBenchTenant();
  console.log(`dev tenant on ${tenant.tenant.url}; user and admin tokens fetched`);
  const tokenFor: Record<PathName, string | undefined> = {
    public: undefined,
    protected: tenant.userToken,
    admin: tenant.adminToken,
    dpop: tenant.dpopToken,
    uncached: undefined,
  };
  // The API reads .env from its working directory: run it from an empty one so only our env applies.
  const cwd = mkdtempSync(join(tmpdir(), 'hello-api-bench-cwd-'));
  onExit(() => { rmSync(cwd, { recursive: true, force: true }); });
  if (settings.pinned) pinThisProcess('0');
  const serverCpus = settings.pinned ? `1-${String(Math.max(1, cpus().length - 1))}` : undefined;

  const start = async (target: Target) => {
    const port = await freePort();
    return startServer({
      name: target.name,
      args: target.args,
      env: childEnv(target.env, port),
      port,
      readyPath: '/api/messages/public',
      cwd,
      ...(serverCpus !== undefined && { cpus: serverCpus }),
    });
  };

  // The same-bytes ceiling replays exactly what this build of the API sends.
  let sameBytes: CapturedResponse | undefined;
  if (settings.targets.includes('ceiling-same-bytes')) {
    const api = await start(targetsFor(tenant.tenant.url, tenant.audience, undefined).api);
    try {
      sameBytes = await captureResponse(`${api.baseUrl}/api/messages/protected`, tenant.userToken);
    } finally {
      await api.stop();
    }
    if (sameBytes.status !== 200) throw new Error(`capturing the API's /protected response: HTTP ${String(sameBytes.status)}`);
    console.log(`captured the API's /protected 200 for ceiling-same-bytes: ${String(sameBytes.headers.length)} headers, ${String(sameBytes.body.length)}-byte body`);
  }
  const targets = targetsFor(tenant.tenant.url, tenant.audience, sameBytes);

  const coldStartsMs: Partial<Record<TargetName, number[]>> = {};
  if (settings.coldStarts > 0) {
    for (const name of settings.targets) {
      const samples: number[] = [];
      for (let i = 0; i < settings.coldStarts; i += 1) {
        const server = await start(targets[name]);
        samples.push(server.coldStartMs);
        await server.stop();
      }
      coldStartsMs[name] = samples;
      console.log(`cold start ${name}: ${samples.map((value) => value.toFixed(0)).join(', ')} ms`);
    }
  }

  const runs: RunRecord[] = [];
  const servers: ServerRecord[] = [];
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const name of settings.targets) {
      const target = targets[name];
      const server = await start(target);
      const memory = sampleMemory(server.pid);
      try {
        for (const path of target.paths) {
          const token = tokenFor[path];
          const url = `${server.baseUrl}${urlPath(path)}`;
          const options = {
            url,
            connections: settings.connections,
            ...(token !== undefined && { headers: { authorization: `${path === 'dpop' ? 'DPoP' : 'Bearer'} ${token}` } }),
            expectBody: target.body(path),
          };
          // DPoP: fresh proofs made before each run, uncached: distinct tokens; the warm-up's rate sizes the measured run.
          const proofsFor = (count: number) =>
            path === 'dpop'
              ? { dpopProofs: makeProofs(tenant.dpopKey, Math.max(1, Math.ceil(count)), 'GET', url, token) }
              : path === 'uncached'
                ? { authorizations: tenant.mintUserTokens(Math.max(1, Math.ceil(count))).map((minted) => `Bearer ${minted}`) }
                : {};
          let expectedRps = DPOP_DEFAULT_RPS;
          if (settings.warmupSeconds > 0) {
            const warm = await runLoad({ ...options, durationSeconds: settings.warmupSeconds, ...proofsFor(DPOP_DEFAULT_RPS * settings.warmupSeconds) });
            const problem = uncleanRun(warm);
            if (problem !== undefined) throw new Error(`${name} ${path} (warm-up): ${problem}\n${server.output.slice(-10).join('\n')}`);
            expectedRps = warm.rps;
          }
          const measureOptions = { ...options, durationSeconds: settings.durationSeconds, ...proofsFor(expectedRps * settings.durationSeconds) };
          const cpuBefore = cpuTimeMs(server.pid);
          const result = await runLoad(measureOptions);
          const cpuUsPerRequest = ((cpuTimeMs(server.pid) - cpuBefore) * 1000) / Math.max(1, result.requests);
          const problem = uncleanRun(result);
          if (problem !== undefined) throw new Error(`${name} ${path} round ${String(round)}: ${problem}\n${server.output.slice(-10).join('\n')}`);
          runs.push({ round, target: name, path, ...result, cpuUsPerRequest });
          console.log(
            `round ${String(round)} ${name.padEnd(8)} /${path.padEnd(9)} ${int(result.rps).padStart(7)} req/s  p50 ${ms(result.p50Ms)}  p99 ${ms(result.p99Ms)}  server CPU ${cpuUsPerRequest.toFixed(1)} µs/req`,
          );
        }
      } finally {
        memory.stop();
        await server.stop();
      }
      servers.push({ round, target: name, peakRssBytes: memory.peak() });
      console.log(`round ${String(round)} ${name.padEnd(7)} peak RSS ${mb(memory.peak())}`);
    }
  }
  await tenant.close();

  const env = ['BENCH_ROUNDS', 'BENCH_DURATION', 'BENCH_WARMUP', 'BENCH_CONNECTIONS', 'BENCH_COLD_STARTS', 'BENCH_TARGETS', 'BENCH_BASELINE_DIST', 'BENCH_BASE_ENV', 'BENCH_PIN']
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name] ?? ''} `)
    .join('');
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `${env}npm run bench${process.argv.includes('--markdown') ? ' -- --markdown' : ''}`,
    machine: machine(),
    settings,
    runs,
    servers,
    coldStartsMs,
  };
}

interface Summary {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly worstP99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly samples: number;
}

function summarise(results: Results, target: TargetName, path: PathName): Summary | undefined {
  const runs = results.runs.filter((entry) => entry.target === target && entry.path === path);
  if (runs.length === 0) return undefined;
  return {
    rps: median(runs.map((entry) => entry.rps)),
    p50Ms: median(runs.map((entry) => entry.p50Ms)),
    p99Ms: median(runs.map((entry) => entry.p99Ms)),
    worstP99Ms: Math.max(...runs.map((entry) => entry.p99Ms)),
    cpuUsPerRequest: median(runs.map((entry) => entry.cpuUsPerRequest)),
    samples: runs.length,
  };
}

const peakRss = (results: Results, target: TargetName): number => {
  const values = results.servers.filter((entry) => entry.target === target).map((entry) => entry.peakRssBytes);
  return values.length === 0 ? Number.NaN : Math.max(...values);
};

/**
 * `value(a) / value(b)` for every round in which both ran: ratios taken inside one round are what
 * this noisy machine can compare (both ran minutes apart at most, under the same background load).
 */
function perRoundRatios(
  results: Results,
  a: readonly [TargetName, PathName],
  b: readonly [TargetName, PathName],
  value: (run: RunRecord) => number,
): number[] {
  const find = (round: number, [target, path]: readonly [TargetName, PathName]) =>
    results.runs.find((run) => run.round === round && run.target === target && run.path === path);
  const ratios: number[] = [];
  for (let round = 1; round <= results.settings.rounds; round += 1) {
    const x = find(round, a);
    const y = find(round, b);
    if (x !== undefined && y !== undefined) ratios.push(value(x) / value(y));
  }
  return ratios;
}

/** "1.18× (1.12–1.25× over 3 rounds)". */
function spread(values: readonly number[], format: (value: number) => string): string {
  if (values.length === 0) return 'not measured';
  if (values.length === 1) return format(values[0] ?? Number.NaN);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))} over ${String(values.length)} rounds)`;
}

/** The results as markdown: the throughput table with ratios, servers, and the targets verdict. */
export function render(results: Results): string {
  const { settings, machine: host } = results;
  const ceiling = summarise(results, 'ceiling', 'protected')?.rps ?? Number.NaN;
  const sameBytes = summarise(results, 'ceiling-same-bytes', 'protected');
  const rows: string[][] = [];
  for (const target of ALL_TARGETS) {
    for (const path of PATHS) {
      const summary = summarise(results, target, path);
      if (summary === undefined) continue;
      const peer = summarise(results, 'peer', path)?.rps ?? Number.NaN;
      rows.push([
        target,
        path === 'dpop' ? '/protected (DPoP)' : path === 'uncached' ? '/protected (distinct tokens)' : `/${path}`,
        int(summary.rps),
        ms(summary.p50Ms),
        ms(summary.p99Ms),
        ms(summary.worstP99Ms),
        `${summary.cpuUsPerRequest.toFixed(0)} µs`,
        target === 'peer' ? '1.00×' : ratio(summary.rps / peer),
        percent(summary.rps / (sameBytes?.rps ?? Number.NaN)),
        percent(summary.rps / ceiling),
      ]);
    }
  }
  const serverRows = results.settings.targets.map((target) => [
    target,
    ms(median(results.coldStartsMs[target] ?? []), 0),
    (results.coldStartsMs[target] ?? []).map((value) => value.toFixed(0)).join(', ') || '–',
    mb(peakRss(results, target)),
  ]);

  const api = (path: PathName) => summarise(results, 'api', path);
  const check = (ok: boolean | undefined, text: string): string => `- ${ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED'}: ${text}`;
  const verdictOf = (values: readonly number[], ok: (value: number) => boolean): boolean | undefined =>
    values.length === 0 ? undefined : ok(median(values));
  const SB = 'ceiling-same-bytes';
  const verdict: string[] = [];
  for (const path of ['protected', 'admin'] as const) {
    if (api(path) === undefined) continue;
    const cpu = perRoundRatios(results, ['api', path], [SB, 'protected'], (run) => run.cpuUsPerRequest);
    const rps = perRoundRatios(results, ['api', path], [SB, 'protected'], (run) => run.rps);
    const peer = perRoundRatios(results, ['api', path], ['peer', path], (run) => run.rps);
    verdict.push(check(verdictOf(cpu, (value) => value <= 1.25), `/${path} server CPU per request ≤ 1.25× the same-bytes ceiling's: ${spread(cpu, ratio)}`));
    verdict.push(check(verdictOf(rps, (value) => value >= 0.8), `/${path} throughput ≥ 80 % of the same-bytes ceiling: ${spread(rps, percent)}`));
    verdict.push(check(verdictOf(peer, (value) => value >= 6), `/${path} ≥ 6× the Express peer: ${spread(peer, ratio)}`));
    const summary = api(path);
    if (summary !== undefined) verdict.push(check(summary.worstP99Ms < 10, `/${path} p99 < 10 ms at ${String(settings.connections)} connections (median ${ms(summary.p99Ms)}, worst run ${ms(summary.worstP99Ms)})`));
  }
  // Issue 19: the signature paths against Auth0's SDK stack, on server CPU per request (the SDK's over ours) and on throughput.
  const signaturePaths = [
    ['api-dpop', 'dpop', 3.5, '/protected with DPoP (a fresh proof per request)'],
    ['api-uncached', 'uncached', 4, 'uncached /protected (a distinct valid token per request)'],
  ] as const;
  for (const [target, path, goal, label] of signaturePaths) {
    const cpu = perRoundRatios(results, ['peer', path], [target, path], (run) => run.cpuUsPerRequest);
    const rps = perRoundRatios(results, [target, path], ['peer', path], (run) => run.rps);
    if (cpu.length > 0) verdict.push(check(verdictOf(cpu, (value) => value >= goal), `${label}: the Express peer's server CPU per request ≥ ${String(goal)}× ours: ${spread(cpu, ratio)}`));
    if (rps.length > 0) verdict.push(check(verdictOf(rps, (value) => value >= goal), `${label}: throughput ≥ ${String(goal)}× the Express peer's: ${spread(rps, ratio)}`));
  }
  const publicRps = perRoundRatios(results, ['api', 'public'], [SB, 'protected'], (run) => run.rps);
  if (api('public') !== undefined) verdict.push(check(verdictOf(publicRps, (value) => value >= 0.9), `/public throughput ≥ 90 % of the same-bytes ceiling: ${spread(publicRps, percent)}`));
  const rss = peakRss(results, 'api');
  if (Number.isFinite(rss)) verdict.push(check(rss < 120 * 1024 * 1024, `peak RSS < 120 MB (${mb(rss)}, 1 worker, Bearer paths)`));
  const dpopRss = peakRss(results, 'api-dpop');
  if (Number.isFinite(dpopRss)) verdict.push(`- for information: peak RSS on the DPoP path ${mb(dpopRss)} (its replay store holds every proof of the last 65 s)`);
  const cold = median(results.coldStartsMs.api ?? []);
  if (Number.isFinite(cold)) verdict.push(check(cold < 300, `cold start of node dist/server.js < 300 ms (median ${ms(cold, 0)})`));
  const workers = perRoundRatios(results, ['api-2w', 'protected'], ['api', 'protected'], (run) => run.rps);
  if (workers.length > 0) verdict.push(`- for information: 2 workers against 1 on /protected: ${spread(workers, ratio)}${settings.pinned ? '' : ' (load generator on the same 2 cores)'}`);

  const base: string[] = [];
  for (const path of PATHS) {
    const before = summarise(results, 'api-base', path);
    const after = api(path);
    if (before !== undefined && after !== undefined) {
      const cpu = perRoundRatios(results, ['api', path], ['api-base', path], (run) => run.cpuUsPerRequest);
      base.push(
        `- /${path}: api-base ${int(before.rps)} → api ${int(after.rps)} req/s (${ratio(after.rps / before.rps)}), ` +
          `p99 ${ms(before.p99Ms)} → ${ms(after.p99Ms)}, server CPU ${before.cpuUsPerRequest.toFixed(1)} → ${after.cpuUsPerRequest.toFixed(1)} µs/req ` +
          `(per round: ${spread(cpu.map((value) => value - 1), percent)})`,
      );
    }
  }
  if (base.length > 0) verdict.push('', 'Change against BENCH_BASELINE_DIST:', ...base);

  return [
    `Run ${results.startedAt} → ${results.finishedAt}: \`${results.command}\``,
    `Machine: ${String(host.nproc)} CPUs (${host.cpuModel}), Node ${host.node}, Linux ${host.kernel}.`,
    `Load: autocannon, ${String(settings.connections)} connections, ${String(settings.durationSeconds)} s per run after ${String(settings.warmupSeconds)} s warm-up, ` +
      `${String(settings.rounds)} interleaved rounds; medians over rounds. ` +
      (settings.pinned
        ? 'The load generator is pinned to CPU 0 and the servers to the other CPUs (BENCH_PIN=1).'
        : 'The load generator runs on the same 2 cores as the server.'),
    '',
    table(['target', 'path', 'req/s', 'p50', 'p99', 'worst p99', 'server CPU/req', 'vs peer', 'vs same bytes', 'vs bare'], rows),
    '',
    table(['target', 'cold start (median)', 'cold starts (ms)', 'peak RSS'], serverRows),
    '',
    'Targets (ratios taken inside each round, then the median and the range over rounds):',
    ...verdict,
  ].join('\n');
}

function writeMarkdown(report: string): void {
  let text: string;
  try {
    text = readFileSync(MARKDOWN_FILE, 'utf8');
  } catch {
    throw new Error(`${MARKDOWN_FILE} not found`);
  }
  const begin = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  if (begin === -1 || end < begin) throw new Error(`${MARKDOWN_FILE} has no ${MARK_START} ... ${MARK_END} section`);
  writeFileSync(MARKDOWN_FILE, `${text.slice(0, begin + MARK_START.length)}\n${report}\n${text.slice(end)}`);
  console.log(`rewrote the results section of ${MARKDOWN_FILE}`);
}

async function main(): Promise<void> {
  const fromIndex = process.argv.indexOf('--from');
  let results: Results;
  if (fromIndex !== -1) {
    const file = process.argv[fromIndex + 1];
    if (file === undefined) throw new Error('--from needs a results file');
    results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  } else {
    results = await run(readSettings());
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`results written to ${file}`);
  }
  const report = render(results);
  console.log(`\n${report}`);
  if (process.argv.includes('--markdown')) writeMarkdown(report);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nBENCH FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
