import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes for the bench: spawned on loopback ports, tracked so every one is killed on
 * exit, error or Ctrl-C, with memory read from /proc while they run.
 */

const children = new Set<ChildProcess>();
let cleanupsInstalled = false;
const exitHooks: (() => void)[] = [];

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Kills every tracked child (and runs the registered hooks) however this process ends. */
export function installCleanup(): void {
  if (cleanupsInstalled) return;
  cleanupsInstalled = true;
  const runHooks = (): void => {
    killAll();
    for (const hook of exitHooks.splice(0)) {
      try {
        hook();
      } catch {
        // best effort at exit
      }
    }
  };
  process.on('exit', runHooks);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes`);
      runHooks();
      process.exit(130);
    });
  }
}

/** A synchronous hook run at exit (e.g. removing a temp dir). */
export function onExit(hook: () => void): void {
  exitHooks.push(hook);
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

/** The status of one GET on loopback, or 0 if nothing answered. */
export function probe(url: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => { resolve(res.statusCode ?? 0); });
    });
    req.on('timeout', () => { req.destroy(); });
    req.on('error', () => { resolve(0); });
    req.end();
  });
}

export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  /** Milliseconds from spawn to the first 200 from `readyPath`. */
  readonly coldStartMs: number;
  /** Lines the child wrote to stdout/stderr (bounded), for error reports and --trace-gc. */
  readonly output: string[];
  stop(): Promise<void>;
}

const MAX_OUTPUT_LINES = 20_000;

export interface StartOptions {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly port: number;
  readonly readyPath: string;
  readonly cwd?: string;
  readonly startTimeoutMs?: number;
  /** Run on these CPUs only (taskset list, e.g. "1"); its workers inherit the mask. */
  readonly cpus?: string;
}

/** Pins this process and all its threads (the in-process load generator) to `cpus`, with taskset. */
export function pinThisProcess(cpus: string): void {
  execFileSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Spawns `node args...` and resolves once `readyPath` answers 200 (polled every 2 ms). */
export async function startServer(options: StartOptions): Promise<Server> {
  installCleanup();
  const baseUrl = `http://127.0.0.1:${String(options.port)}`;
  const started = performance.now();
  const [command, args] =
    options.cpus === undefined ? [process.execPath, options.args] : ['taskset', ['-c', options.cpus, process.execPath, ...options.args]];
  const child = spawn(command, args, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  });
  children.add(child);
  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line !== '' && output.length < MAX_OUTPUT_LINES) output.push(line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  const deadline = started + (options.startTimeoutMs ?? 15_000);
  let coldStartMs = Number.NaN;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if ((await probe(baseUrl + options.readyPath, 500)) === 200) {
      coldStartMs = performance.now() - started;
      break;
    }
    await sleep(2);
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  if (Number.isNaN(coldStartMs) || child.pid === undefined) {
    await stop();
    throw new Error(`${options.name} did not answer 200 on ${options.readyPath}:\n${output.slice(-20).join('\n')}`);
  }
  return { name: options.name, child, pid: child.pid, baseUrl, coldStartMs, output, stop };
}

/** Pid plus all its descendants (cluster workers), from /proc. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // process exited while listing
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length && i < 1_000; i += 1) tree.push(...(parents.get(tree[i] ?? -1) ?? []));
  return tree;
}

/** VmRSS and VmHWM of one process in bytes (0 if gone). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

export interface MemorySampler {
  /** Highest sampled sum of VmRSS over the tree, or VmHWM for a single process, in bytes. */
  peak(): number;
  /** The latest sample's RSS sum in bytes. */
  current(): number;
  readonly samples: { readonly atMs: number; readonly rss: number }[];
  stop(): void;
}

/** Samples the memory of `pid` and its descendants every `intervalMs` until stopped. */
export function sampleMemory(pid: number, intervalMs = 200): MemorySampler {
  const samples: { atMs: number; rss: number }[] = [];
  const started = performance.now();
  let peakSum = 0;
  let peakHwm = 0;
  let tree = processTree(pid);
  let ticks = 0;
  const sample = (): void => {
    if (ticks % 25 === 0) tree = processTree(pid); // workers may restart; re-list now and then
    ticks += 1;
    let sum = 0;
    for (const member of tree) sum += memoryOf(member).rss;
    const { hwm } = memoryOf(pid);
    peakHwm = Math.max(peakHwm, hwm);
    peakSum = Math.max(peakSum, sum);
    if (samples.length < 100_000) samples.push({ atMs: performance.now() - started, rss: sum });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    peak: () => (tree.length === 1 ? Math.max(peakSum, peakHwm) : peakSum),
    current: () => samples.at(-1)?.rss ?? 0,
    samples,
    stop: () => {
      sample();
      clearInterval(timer);
    },
  };
}

/** User + system CPU time in ms of `pid` and its descendants so far (Linux clock ticks of 10 ms). */
export function cpuTimeMs(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${String(member)}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command name: state(0) ppid(1) ... utime(11) stime(12).
      ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    } catch {
      // exited
    }
  }
  return ticks * 10;
}
