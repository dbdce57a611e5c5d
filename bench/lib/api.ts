import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Server, freePort, onExit, startServer } from './processes.js';
import type { BenchTenant } from './tenant.js';

/** A whole-number setting from the environment, within bounds; a clear error otherwise. */
export function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${String(min)} to ${String(max)}`);
  return value;
}

/**
 * Starts a built API (`entry`) as production runs it (NODE_ENV=production, LOG_LEVEL=warn),
 * trusting the bench tenant, on a free loopback port, from an empty working directory so no
 * `.env` applies. `nodeArgs` go before the entry (e.g. --cpu-prof); `env` adds or overrides variables.
 */
export async function startProductionApi(
  tenant: BenchTenant,
  entry: string,
  nodeArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<Server> {
  const cwd = mkdtempSync(join(tmpdir(), 'hello-api-bench-cwd-'));
  onExit(() => { rmSync(cwd, { recursive: true, force: true }); });
  const port = await freePort();
  return startServer({
    name: 'api',
    args: [...nodeArgs, entry],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      // No drain window: stop() sends SIGKILL after 5 s, and --cpu-prof writes its profile at exit.
      SHUTDOWN_DRAIN_SECONDS: '0',
      AUTH0_DOMAIN: tenant.tenant.url,
      AUTH0_AUDIENCE: tenant.audience,
      // The bench tenant runs on plain-http loopback, which production refuses unless told.
      ALLOW_LOOPBACK_ISSUER: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    port,
    cwd,
    readyPath: '/api/messages/public',
  });
}
