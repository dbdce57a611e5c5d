import { type Config, parseConfig as parseApiConfig } from './config/config.js';
import { readEnv } from './config/env-file.js';
import { type DevTenantConfig, devTenantSettings } from './dev-tenant/index.js';

/**
 * The process's whole configuration: the API's (src/config/, which knows no part above it) with
 * the dev tenant plugged in as its embedded issuer, used when AUTH0_DOMAIN is unset.
 */
export type ServerConfig = Config<DevTenantConfig>;

/** Validates `env`; throws a one-line ConfigError (see src/config/config.ts). Keys folder relative to `cwd`. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): ServerConfig {
  return parseApiConfig(env, devTenantSettings(cwd));
}

/** The configuration from `.env` in `cwd` and the environment on top; `warn` gets one line per malformed .env line. */
export function loadConfig(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
  warn?: (line: string) => void,
): ServerConfig {
  return parseConfig(readEnv(cwd, env, warn), cwd);
}
