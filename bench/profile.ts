/**
 * `npm run bench:profile`: CPU profile of the API under load. Builds the server (dependencies left
 * external), starts a dev tenant on 127.0.0.1, runs it with `node --cpu-prof` (production settings, as in the bench), drives
 * PROFILE_PATH (protected; or public, admin, dpop: a fresh DPoP proof per request, uncached: a
 * distinct valid token per request, both made before the run) with 50 connections for PROFILE_DURATION seconds (10), stops the
 * server (the profile is written on exit) and prints self time by module and by function.
 * `--startup` profiles only start-up: spawn to the first 200 from /public.
 * Profiles are kept in bench/results/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SelfTime, profileBuildDir, summariseProfile } from './lib/cpuprofile.js';
import { table } from './lib/format.js';
import { runLoad, uncleanRun } from './lib/load.js';
import { installCleanup } from './lib/processes.js';
import { startBenchTenant } from './lib/tenant.js';
import { makeProofs } from './lib/dpop-proofs.js';
import { startProductionApi } from './lib/api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const startup = process.argv.includes('--startup');
const duration = Math.min(120, Math.max(1, Number(process.env.PROFILE_DURATION ?? 10)));
const path = process.env.PROFILE_PATH ?? 'protected';
if (!['public', 'protected', 'admin', 'dpop', 'uncached'].includes(path)) throw new Error('PROFILE_PATH must be public, protected, admin, dpop or uncached');

async function main(): Promise<void> {
  installCleanup();
  // The production bundle with node_modules left external, so the profile attributes time to each
  // dependency instead of to one bundled file.
  // Inside the project (so node_modules resolves) but not under node_modules, or the summary would
  // file the app's own code under a package named `.cache`.
  const buildDir = profileBuildDir(ROOT);
  execFileSync(process.execPath, ['scripts/build.mjs', '--outdir', buildDir, '--external-packages'], { cwd: ROOT, stdio: 'inherit' });
  const tenant = await startBenchTenant();
  const profileDir = join(ROOT, 'bench', 'results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(profileDir, { recursive: true });
  const server = await startProductionApi(tenant, join(buildDir, 'server.js'), ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  if (!startup) {
    const token = path === 'admin' ? tenant.adminToken : tenant.userToken;
    const url = `${server.baseUrl}/api/messages/${path === 'dpop' || path === 'uncached' ? 'protected' : path}`;
    // Requests made before the run, at a rate above this machine's (the run sends exactly these).
    const perRequest = path === 'dpop'
      ? { headers: { authorization: `DPoP ${tenant.dpopToken}` }, dpopProofs: makeProofs(tenant.dpopKey, 1_500 * duration, 'GET', url, tenant.dpopToken) }
      : path === 'uncached'
        ? { authorizations: tenant.mintUserTokens(2_500 * duration).map((minted) => `Bearer ${minted}`) }
        : path === 'public' ? {} : { headers: { authorization: `Bearer ${token}` } };
    const result = await runLoad({ url, connections: 50, durationSeconds: duration, ...perRequest });
    const problem = uncleanRun(result);
    if (problem !== undefined) throw new Error(`load run not clean: ${problem}`);
    console.log(`/${path}: ${result.rps.toFixed(0)} req/s under the profiler (slower than without it)`);
  }
  await server.stop();
  await tenant.close();
  // The profile is written as the process exits; give the file system a moment.
  let files: string[] = [];
  for (let i = 0; i < 50 && files.length === 0; i += 1) {
    files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
    if (files.length === 0) await sleep(100);
  }
  const file = files[0];
  if (file === undefined) throw new Error(`no .cpuprofile written in ${profileDir}`);
  const summary = summariseProfile(join(profileDir, file), 15);
  const rows = (entries: readonly SelfTime[]) =>
    entries.map((entry) => [entry.name, `${entry.ms.toFixed(0)} ms`, `${(entry.share * 100).toFixed(1)} %`]);
  console.log(`\n${join(profileDir, file)}: ${(summary.totalMs / 1000).toFixed(1)} s profiled, ${(summary.idleMs / 1000).toFixed(1)} s idle\n`);
  console.log(table(['module (self time)', 'ms', 'share of busy'], rows(summary.byModule)));
  console.log();
  console.log(table(['function (self time)', 'ms', 'share of busy'], rows(summary.byFunction)));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`PROFILE FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
