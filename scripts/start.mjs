// `npm start`: one process from start to exit. It builds first only when dist/ is missing or older
// than src/ (an image built with `npm run build` needs no build tool), then runs the server in this
// same process, so SIGTERM/SIGINT sent to `npm start` reach the server's own handlers (graceful
// drain) and nothing is left running. package.json's `exec` makes the shell npm spawns replace
// itself with this process; npm forwards the signals it gets to it and exits with its exit code.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = join('dist', 'server.js');
const newestSource = () =>
  Math.max(
    ...readdirSync('src', { recursive: true, encoding: 'utf8' }).map((file) => statSync(join('src', file)).mtimeMs),
  );

if (!existsSync(entry) || (existsSync('src') && statSync(entry).mtimeMs < newestSource())) {
  console.error('Building (dist/ is missing or older than src/)...');
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
await import(pathToFileURL(resolve(entry)).href);
