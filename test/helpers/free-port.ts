import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Ports for test child processes (PORT=..., a Redis server), free on 127.0.0.1 and handed out once
 * per run across every test process. Test files run concurrently, so "ask the OS for port 0, then
 * release it" could give two processes the same port before either child binds it, and a tenant
 * listening on port 0 could take one in the meantime. Here:
 * - ports come from below the OS's ephemeral range, which it never hands out for port 0 or for
 *   outgoing connections, so nothing else of the tests takes them by accident;
 * - each port is reserved by creating a file named after it, exclusively, in a folder every test
 *   process of the run shares (HELLO_API_TEST_PORTS_DIR, made by scripts/run-tests.mjs and removed
 *   after it; a per-user folder otherwise, where reservations older than STALE_MS are reused);
 * - and it must bind on 127.0.0.1 right now, or it is skipped.
 */
const PORTS_DIR = process.env['HELLO_API_TEST_PORTS_DIR'] ?? join(tmpdir(), `hello-api-test-ports-${String(userInfo().uid)}`);
const STALE_MS = 60 * 60 * 1000;
const RANGE_SIZE = 10_000;
const ATTEMPTS = 200;

/** The lowest port of the OS's ephemeral range (Linux: /proc; 32768 elsewhere, the usual value). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024 + RANGE_SIZE) return low;
  } catch {
    // Not Linux: the default below.
  }
  return 32_768;
}

const HIGH = ephemeralLow();
const LOW = HIGH - RANGE_SIZE;

function reserve(port: number): boolean {
  const file = join(PORTS_DIR, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A reservation left by an earlier run in the shared per-user folder: take it over.
  if (process.env['HELLO_API_TEST_PORTS_DIR'] === undefined && Date.now() - statSync(file).mtimeMs > STALE_MS) {
    writeFileSync(file, String(process.pid));
    return true;
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

/** A TCP port free on 127.0.0.1 that no other test process of this run has been given. */
export async function freePort(): Promise<number> {
  mkdirSync(PORTS_DIR, { recursive: true });
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = LOW + Math.floor(Math.random() * RANGE_SIZE);
    if (reserve(port) && (await bindable(port))) return port;
  }
  throw new Error(`no free port in ${String(LOW)}-${String(HIGH - 1)} after ${String(ATTEMPTS)} tries (reservations in ${PORTS_DIR})`);
}
