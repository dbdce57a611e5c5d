import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error.js';

const ASSIGNMENT = /^\s*(?:export\s+)?[\w.-]+\s*=(.*)$/;
const QUOTES = new Set(['"', "'", '`']);

/**
 * The 1-based numbers of the lines of a .env text that are not `KEY=value`, a comment or blank
 * (`PORT 7000`, `PORT: 7000`): node's parseEnv skips them without a word (or, on Node 20, glues
 * them to the next key). Lines inside a quoted value that spans lines are part of that value.
 */
export function malformedEnvLines(text: string): number[] {
  const malformed: number[] = [];
  let openQuote: string | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    if (openQuote !== undefined) {
      if (line.includes(openQuote)) openQuote = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const value = ASSIGNMENT.exec(line)?.[1]?.trim();
    if (value === undefined) {
      malformed.push(index + 1);
      return;
    }
    const quote = value[0];
    if (quote !== undefined && QUOTES.has(quote) && !value.slice(1).includes(quote)) openQuote = quote;
  });
  return malformed;
}

/**
 * Reads `.env` if present. Real environment variables win over the file, as with
 * dotenv and the Flask original, so a deployment can override any line.
 */
export function readEnvFile(path: string, warn: (line: string) => void = warnOnStderr): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError(`Invalid configuration: ${path} cannot be read (${code ?? String(error)})`);
  }
  // The line number only: the line itself may hold a secret.
  for (const line of malformedEnvLines(text)) warn(`warning: ${path} line ${line} is not KEY=value and is ignored`);
  return parseEnv(text) as Record<string, string>;
}

function warnOnStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The process's environment: `.env` from `cwd`, then `process.env` on top. `warn` gets one line per malformed .env line. */
export function readEnv(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = warnOnStderr,
): Record<string, string | undefined> {
  return { ...readEnvFile(resolve(cwd, '.env'), warn), ...env };
}
