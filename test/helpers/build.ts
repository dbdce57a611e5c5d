import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The production bundle scripts/run-tests.mjs built once for this run (`scripts/build.mjs
 * --outdir`), or undefined when a test file runs on its own. Tests only read it.
 */
export const SHARED_BUILD: string | undefined = process.env['HELLO_API_TEST_BUILD'] || undefined;

/** Puts what `npm run build` makes into `outdir`: a copy of the run's bundle, or a build of its own. */
export async function copyBuild(outdir: string): Promise<void> {
  if (SHARED_BUILD !== undefined) {
    await cp(SHARED_BUILD, outdir, { recursive: true });
    return;
  }
  await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--outdir', outdir], { cwd: ROOT, timeout: 60_000 });
}

/** The run's built server.js, if there is one. */
export function sharedServerEntry(): string | undefined {
  return SHARED_BUILD === undefined ? undefined : join(SHARED_BUILD, 'server.js');
}
