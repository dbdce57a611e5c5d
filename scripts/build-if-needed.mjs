// `npm start` runs compiled JavaScript. This builds first only when dist/ is missing or older
// than src/, so a production image built with `npm run build` needs no build tool at start.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const entry = join('dist', 'server.js');
const newestSource = () =>
  Math.max(
    ...readdirSync('src', { recursive: true, encoding: 'utf8' }).map((file) => statSync(join('src', file)).mtimeMs),
  );

if (existsSync(entry) && (!existsSync('src') || statSync(entry).mtimeMs >= newestSource())) {
  process.exit(0);
}
console.error('Building (dist/ is missing or older than src/)...');
const result = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
