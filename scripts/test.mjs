// `npm test`: typecheck, lint and every test (scripts/run-tests.mjs), started together. Typecheck
// and lint each keep one core busy for a while; run before the tests they would leave the other
// core idle. Their output is held and printed after the tests', under a heading each; the exit
// code is 0 only if all three passed.
import { spawn } from 'node:child_process';

function run(command, args, { quiet }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (quiet) {
      child.stdout.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
      child.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
    }
    child.on('exit', (code, signal) => { resolve({ code: code ?? (signal === null ? 1 : 128), output }); });
  });
}

// The same commands as `npm run typecheck` and `npm run lint`, without npm's own start-up.
const checks = [
  ['typecheck', run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { quiet: true })],
  ['lint', run(process.execPath, ['node_modules/eslint/bin/eslint.js', '.'], { quiet: true })],
];
const tests = await run(process.execPath, ['scripts/run-tests.mjs'], { quiet: false });

let failed = tests.code !== 0;
for (const [name, pending] of checks) {
  const { code, output } = await pending;
  console.log(`\n== ${name}: ${code === 0 ? 'passed' : `failed (exit ${String(code)})`}`);
  if (output.trim() !== '') console.log(output.trimEnd());
  if (code !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
