import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Running the dev tenant's programs (CLIs, shell commands) in tests; the tenant itself is test/helpers/tenant.ts. */

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion (killed after `timeoutMs`) and collects its output. */
export function run(
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly cwd: string; readonly timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A minimal, explicit environment for child processes: nothing inherited (no AUTH0_DOMAIN, no
 * proxy), with this node first on PATH for the `node -pe` in the banner's commands.
 */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    NO_PROXY: '*',
    no_proxy: '*',
    AUTH0_DOMAIN: '',
    ...vars,
  };
}

/** The run's bundle of the dev tenant's CLIs (scripts/run-tests.mjs), or undefined when a file runs alone. */
const CLI_BUILD: string | undefined = process.env['HELLO_API_TEST_CLI_BUILD'] || undefined;

/**
 * Runs a TypeScript program of this repository, so any cwd works: a dev tenant CLI
 * (`src/dev-tenant/cli/<name>.ts`) from the run's bundle of them when there is one (the same code,
 * started in a third of the CPU time), anything else as `node --import tsx <script>`.
 */
export function runTsScript(
  relativeScript: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly cwd: string },
): Promise<RunResult> {
  const cli = /^src\/dev-tenant\/cli\/([\w-]+)\.ts$/.exec(relativeScript)?.[1];
  if (CLI_BUILD !== undefined && cli !== undefined) return run(process.execPath, [join(CLI_BUILD, `${cli}.js`), ...args], options);
  const script = fileURLToPath(new URL(`../../${relativeScript}`, import.meta.url));
  return run(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], options);
}

/** The last non-empty line: where the token CLI puts the token. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/** What `command` (token, call) must do when no dev tenant answers on `port`: one line naming the fix, nothing on stdout, exit 1. */
export function assertNoTenantAnswers(result: RunResult, command: string, port: number): void {
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    `${command}: no dev tenant answers at http://localhost:${String(port)}: is the API running? start it with npm start ` +
      '(if it runs with another DEV_TENANT_PORT, give this command the same value, in .env or the environment)\n',
  );
}
