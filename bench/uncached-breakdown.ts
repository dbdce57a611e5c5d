/**
 * `tsx bench/uncached-breakdown.ts`: where an uncached request's server CPU goes (issue 19). Starts
 * one bench tenant and, per build in BREAKDOWN_BUILDS, a production API with the verified-token
 * cache on and one with it off (TOKEN_CACHE_MAX_ENTRIES=0); then, round after round (order
 * alternated), measures server CPU per request (/proc, the server's process only) of:
 *   cached     one token repeated, cache on (the fast path)
 *   off-same   one token repeated, cache off (the full path and a signature check every request)
 *   off-new    a distinct token per request, cache off
 *   new        a distinct token per request, cache on (what `npm run bench` calls uncached)
 * Each round mints BREAKDOWN_REQUESTS tokens once and sends the same list to every server, so
 * builds are compared on the same tokens. Settings: BREAKDOWN_BUILDS (comma list of dist
 * directories, default dist), BREAKDOWN_REQUESTS (10000), BREAKDOWN_ROUNDS (5; the first is
 * reported but left out of the medians: JIT warm-up), BREAKDOWN_DURATION (seconds of the
 * one-token runs, 3). Run `npm run build` first.
 */
import { join, resolve } from 'node:path';
import { envInt, startProductionApi } from './lib/api.js';
import { median, table } from './lib/format.js';
import { runLoad, uncleanRun } from './lib/load.js';
import { type Server, cpuTimeMs, installCleanup } from './lib/processes.js';
import { type BenchTenant, startBenchTenant } from './lib/tenant.js';

const KINDS = ['cached', 'off-same', 'off-new', 'new'] as const;

function startApi(tenant: BenchTenant, dist: string, cacheOff: boolean): Promise<Server> {
  return startProductionApi(tenant, join(resolve(dist), 'server.js'), [], cacheOff ? { TOKEN_CACHE_MAX_ENTRIES: '0' } : {});
}

async function main(): Promise<void> {
  installCleanup();
  const builds = (process.env.BREAKDOWN_BUILDS ?? 'dist').split(',').filter((dist) => dist !== '');
  const requests = envInt('BREAKDOWN_REQUESTS', 10_000, 100, 1_000_000);
  const rounds = envInt('BREAKDOWN_ROUNDS', 5, 1, 100);
  const durationSeconds = envInt('BREAKDOWN_DURATION', 3, 1, 60);
  const tenant = await startBenchTenant();
  const servers = new Map<string, { on: Server; off: Server }>();
  for (const dist of builds) servers.set(dist, { on: await startApi(tenant, dist, false), off: await startApi(tenant, dist, true) });
  const bearer = `Bearer ${tenant.userToken}`;
  const samples = new Map<string, number[]>();
  const runs = [...servers.keys()].flatMap((dist) => KINDS.map((kind) => ({ dist, kind })));
  for (let round = 0; round < rounds; round += 1) {
    const distinct = tenant.mintUserTokens(requests).map((token) => `Bearer ${token}`);
    for (const { dist, kind } of round % 2 === 1 ? [...runs].reverse() : runs) {
      const pair = servers.get(dist);
      if (pair === undefined) continue;
      const server = kind === 'cached' || kind === 'new' ? pair.on : pair.off;
      const perRequest = kind === 'cached' || kind === 'off-same' ? { headers: { authorization: bearer }, durationSeconds } : { authorizations: distinct, durationSeconds: 0 };
      const before = cpuTimeMs(server.pid);
      const result = await runLoad({ url: `${server.baseUrl}/api/messages/protected`, connections: 50, ...perRequest });
      const cpuUs = ((cpuTimeMs(server.pid) - before) * 1000) / Math.max(1, result.requests);
      const problem = uncleanRun(result);
      if (problem !== undefined) throw new Error(`${dist} ${kind}: ${problem}`);
      console.log(`round ${String(round)} ${dist} ${kind.padEnd(8)} ${cpuUs.toFixed(1)} µs/req (${String(result.requests)} requests)`);
      if (round > 0 || rounds === 1) samples.set(`${dist} ${kind}`, [...(samples.get(`${dist} ${kind}`) ?? []), cpuUs]);
    }
  }
  console.log();
  console.log(table(['build, kind', 'server CPU/req, median', 'range', 'rounds'], [...samples].map(([name, values]) => [
    name,
    `${median(values).toFixed(1)} µs`,
    `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)} µs`,
    values.map((value) => value.toFixed(0)).join(', '),
  ])));
  for (const pair of servers.values()) {
    await pair.on.stop();
    await pair.off.stop();
  }
  await tenant.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`BREAKDOWN FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
