// Runs every test/**/*.test.ts with Node's test runner through tsx, or those whose path contains
// one of the arguments (`node scripts/run-tests.mjs auth/key-set server`).
// Node 20's `--test` cannot expand globs, so the files are listed here.
//
// Files run concurrently (each in its own process): most of them wait on sockets and child
// processes, not on the CPU. Node's runner starts them in path order whatever order they are
// given in (so test/server.test.ts, the longest, starts among the last). Before they start, this script
// - builds the production bundle once into a temporary folder (HELLO_API_TEST_BUILD), which the
//   tests that need dist/ copy or run instead of building their own;
// - bundles the dev tenant's CLIs (HELLO_API_TEST_CLI_BUILD) for the tests that run them;
// - makes one folder where test processes reserve the ports they hand to child processes
//   (HELLO_API_TEST_PORTS_DIR, see test/helpers/free-port.ts), so two files never get the same one.
// Both are removed when the run ends.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How many test files run at once (TEST_CONCURRENCY overrides). Node's default is one file per
 * core minus one, 1 on two cores; the files mostly wait, so a few more than the cores keep the
 * CPU busy without starving the CPU-bound ones (fuzzing, the browser).
 */
const DEFAULT_CONCURRENCY = 6;

/** Files that start a server process or copy the bundle: only then is the bundle built. */
const NEEDS_BUILD = /\b(startServerProcess|copyBuild)\(/;
/** Files that run the dev tenant's CLIs: only then are they bundled (HELLO_API_TEST_CLI_BUILD). */
const NEEDS_CLI_BUILD = /\brunTsScript\(/;

const filter = process.argv.slice(2);
const files = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => join('test', file))
  .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
  .sort();

if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? DEFAULT_CONCURRENCY);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`TEST_CONCURRENCY must be a whole number from 1, got "${process.env.TEST_CONCURRENCY}"`);
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'hello-api-test-run-'));
const env = { ...process.env, HELLO_API_TEST_PORTS_DIR: join(scratch, 'ports') };
try {
  if (files.some((file) => NEEDS_BUILD.test(readFileSync(file, 'utf8')))) {
    const outdir = join(scratch, 'dist');
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', outdir], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('The build failed: the tests that run the bundle cannot start.');
    env.HELLO_API_TEST_BUILD = outdir;
  }
  if (files.some((file) => NEEDS_CLI_BUILD.test(readFileSync(file, 'utf8')))) {
    const outdir = join(scratch, 'cli');
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--cli', '--outdir', outdir], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('The CLI build failed: the tests that run the CLIs cannot start.');
    env.HELLO_API_TEST_CLI_BUILD = outdir;
  }
  process.exitCode = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit', env });
    // Ctrl-C reaches the whole process group; wait for the runner to stop its files, then clean up.
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { child.kill(signal); });
    child.on('exit', (code) => { resolve(code ?? 1); });
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
