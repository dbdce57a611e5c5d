import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const SERVER_ENTRY = join(ROOT, 'src', 'server.ts');

/** Ports this test process has handed out: the OS may offer a just-released port again. */
const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 (asked of the OS, then released), never one this process handed out
 * before: two calls in a row (PORT, then DEV_TENANT_PORT) once got the same port and the start was refused.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    if (address === null || typeof address === 'string') throw new Error('no port');
    if (!handedOut.has(address.port)) {
      handedOut.add(address.port);
      return address.port;
    }
  }
  throw new Error('no free port that was not handed out already (50 tries)');
}

export interface ServerProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves when `predicate` holds for the output so far; rejects on exit or after `timeoutMs`. */
  waitFor(predicate: (output: { stdout: string; stderr: string }) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs `src/server.ts` through tsx (no build needed), or a built `server.js` when `builtEntry` is
 * given, in an empty working directory (removed when the process exits) so a developer's own
 * `.env` cannot change what the test sees.
 */
export async function startServerProcess(env: Record<string, string>, builtEntry?: string): Promise<ServerProcess> {
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
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(state)) { done(); resolve(); }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out; stdout: ${state.stdout}\nstderr: ${state.stderr}`));
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
