import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { type Config, ConfigError, parseConfig } from './config.js';

/**
 * Reads `.env` if present. Real environment variables win over the file, as with
 * dotenv and the Flask original, so a deployment can override any line.
 */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError(`Invalid configuration: ${path} cannot be read (${code ?? String(error)})`);
  }
  return parseEnv(text) as Record<string, string>;
}

/** The process's configuration: `.env` from `cwd`, then `process.env` on top. */
export function loadConfig(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig({ ...readEnvFile(resolve(cwd, '.env')), ...env }, cwd);
}
