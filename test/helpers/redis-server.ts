import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server-process.js';

/** The Debian package's server (.ci/run installs it when missing). */
export const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * A real redis-server for tests: 127.0.0.1 only, a free port, its own temp dir, nothing persisted.
 * `stop()` and `start()` again on the same port simulate an outage and its end.
 */
export interface TestRedis {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

// Wide: a start takes milliseconds on a quiet machine, seconds beside other busy processes.
const READY_TIMEOUT_MS = 60_000;

export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'hello-api-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child !== undefined) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'];
    const started = spawn(REDIS_SERVER, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`redis-server did not start: ${output}`)); }, READY_TIMEOUT_MS);
      started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); }
      });
      started.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
      started.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${String(code)}): ${output}`)); });
      started.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
  }

  async function stop(): Promise<void> {
    const running = child;
    if (running === undefined) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => { running.once('exit', () => { resolve(); }); });
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${String(port)}`,
    start,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one command on a Redis over its own short-lived connection (tests set up or inspect keys). */
export async function redisCommand(url: string, command: string, ...args: string[]): Promise<unknown> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  client.on('error', () => { /* reported by the command's rejection */ });
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}
