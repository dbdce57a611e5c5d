import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const SERVER_ENTRY = join(ROOT, 'src', 'server.ts');

import { sharedServerEntry } from './build.js';

export { freePort } from './free-port.js';

/**
 * How long waitFor waits by default: a start takes about a second on a quiet machine and several
 * times that beside other busy processes; a generous bound costs nothing when all goes well.
 */
const WAIT_TIMEOUT_MS = 60_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /**
   * Resolves when `predicate` holds for the output so far; rejects on exit, or after `timeoutMs`
   * and then kills the process, so a start that failed does not keep the test file running.
   */
  waitFor(predicate: (output: { stdout: string; stderr: string }) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the server in an empty working directory (removed when the process exits) so a developer's
 * own `.env` cannot change what the test sees: the built `server.js` given as `builtEntry`, else
 * the bundle scripts/run-tests.mjs built from src/ for this run (what production runs; it starts
 * on a third of the CPU tsx needs), else, for a test file run on its own, `src/server.ts` through tsx.
 */
export async function startServerProcess(env: Record<string, string>, builtEntry: string | undefined = sharedServerEntry()): Promise<ServerProcess> {
  const cwd = await mkdtemp(join(tmpdir(), 'hello-api-server-'));
  const args = builtEntry === undefined ? ['--import', TSX_LOADER, SERVER_ENTRY] : [builtEntry];
  const server = startProcess(process.execPath, args, { cwd, env });
  void server.exited.then(() => rm(cwd, { recursive: true, force: true }));
  return server;
}

export interface ProcessOptions {
  readonly cwd: string;
  /** The whole environment besides PATH and HOME: nothing else of the test's leaks in. */
  readonly env: Record<string, string>;
}

/** Runs `command` with its output captured, for tests that wait on what it prints. */
export function startProcess(command: string, args: readonly string[], { cwd, env }: ProcessOptions): ServerProcess {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const state = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { state.stdout += chunk; for (const l of listeners) l(); });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { state.stderr += chunk; for (const l of listeners) l(); });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown'); });
  });

  const processHandle: ServerProcess = {
    child,
    get stdout() { return state.stdout; },
    get stderr() { return state.stderr; },
    waitFor(predicate, timeoutMs = WAIT_TIMEOUT_MS) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(state)) { done(); resolve(); }
        };
        const timer = setTimeout(() => {
          done();
          child.kill('SIGKILL');
          reject(new Error(`timed out after ${String(timeoutMs)} ms; stdout: ${state.stdout}\nstderr: ${state.stderr}`));
        }, timeoutMs);
        const done = () => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          done();
          reject(new Error(`server exited (${String(code)}); stderr: ${state.stderr}`));
        });
        check();
      });
    },
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return processHandle;
}
