import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADMIN_PERMISSION, parseConfig } from '../../src/config/config.js';
import type { DevTenantClient, DevTenantConfig } from '../../src/dev-tenant/config.js';
import { type DevTenant, startDevTenant } from '../../src/dev-tenant/tenant.js';

/** A fresh keys directory, removed when the test ends. */
export async function tempKeysDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dev-tenant-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The dev tenant config the real config code builds (same client ids and secrets as the CLIs
 * see), on port 0 so tests never collide.
 */
export function testTenantConfig(keysDir: string, overrides: Partial<DevTenantConfig> = {}): DevTenantConfig {
  const devTenant = parseConfig({ DEV_TENANT_KEYS_DIR: keysDir }).devTenant;
  if (devTenant === null) throw new Error('expected a dev tenant config');
  return { ...devTenant, port: 0, ...overrides };
}

export interface TestTenant {
  readonly tenant: DevTenant;
  readonly config: DevTenantConfig;
  readonly keysDir: string;
}

/** A dev tenant on 127.0.0.1 with a free port and its own keys, closed when the test ends. */
export async function startTestTenant(t: TestContext, overrides: Partial<DevTenantConfig> = {}): Promise<TestTenant> {
  const keysDir = await tempKeysDir(t);
  const config = testTenantConfig(keysDir, overrides);
  const tenant = await startDevTenant(config);
  t.after(() => tenant.close());
  return { tenant, config, keysDir };
}

export function clientFor(config: DevTenantConfig, admin: boolean): DevTenantClient {
  const client = config.clients.find((candidate) => candidate.permissions.includes(ADMIN_PERMISSION) === admin);
  if (client === undefined) throw new Error(`no ${admin ? 'admin' : 'non-admin'} client in the config`);
  return client;
}

/** A loopback port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => { if (error) reject(error); else resolve(); }));
  return port;
}

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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
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

/** `node --import tsx <script>` with tsx resolved from this repository, so any cwd works. */
export function runTsScript(
  relativeScript: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly cwd: string },
): Promise<RunResult> {
  const script = fileURLToPath(new URL(`../../${relativeScript}`, import.meta.url));
  return run(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], options);
}

/** The last non-empty line: where the token CLI puts the token. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}
