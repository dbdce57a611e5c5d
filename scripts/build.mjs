// Builds the production server: src/server.ts and everything it imports, node_modules included,
// into one ES module, dist/server.js. One file loads in about two thirds of the time of the
// hundreds of modules it replaces (cold start, see BENCHMARKS.md), and dist/ runs without
// node_modules. Type checking is `npm run typecheck`; esbuild only strips types.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
const outdir = values.outdir ?? 'dist';

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['src/server.ts'],
  outfile: join(outdir, 'server.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Some bundled CommonJS packages call require() for Node's own modules; ESM has no require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
