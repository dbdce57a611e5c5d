// Builds the production server: src/server.ts and everything it imports, node_modules included,
// into ES modules in dist/: server.js, plus one chunk per part loaded on demand with import()
// (the dev tenant, metrics, the Redis client). One file loads in about half the time of the
// hundreds of modules it replaces (cold start, see BENCHMARKS.md), and a production start does not
// read the chunks it never imports. dist/ runs without node_modules. Type checking is
// `npm run typecheck`; esbuild only strips types.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

// --external-packages leaves node_modules imports out of the bundle: CPU profiles then name each
// dependency (bench/profile.ts); such an outdir must sit inside the project to resolve them.
// --cli bundles the dev tenant's command-line tools (token, call, rotate-key) instead of the server:
// scripts/run-tests.mjs runs them from such a bundle, which starts in a third of the CPU time of
// transpiling them through tsx at every run.
const { values } = parseArgs({
  options: {
    outdir: { type: 'string', default: 'dist' },
    'external-packages': { type: 'boolean', default: false },
    cli: { type: 'boolean', default: false },
  },
});
const outdir = values.outdir ?? 'dist';
const CLI_TOOLS = ['token', 'call', 'rotate-key'];

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: values.cli === true
    ? Object.fromEntries(CLI_TOOLS.map((name) => [name, `src/dev-tenant/cli/${name}.ts`]))
    : { server: 'src/server.ts' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  ...(values['external-packages'] === true && { packages: 'external' }),
  logLevel: 'warning',
  // Some bundled CommonJS packages call require() for Node's own modules; ESM has no require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
// Says the bundle is an ES module, so Node loads it as one at once instead of trying CommonJS first,
// wherever dist/ is copied (the container image holds dist/ alone).
writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n');
