/**
 * Prints where a .cpuprofile spends its time: `tsx bench/profile-summary.ts <file> [top]`.
 * Shares are of the busy (non-idle) time.
 */
import { table } from './lib/format.js';
import { type SelfTime, summariseProfile } from './lib/cpuprofile.js';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const summary = summariseProfile(file, Number(topArg ?? 15));
const rows = (entries: readonly SelfTime[]) =>
  entries.map((entry) => [entry.name, `${entry.ms.toFixed(0)} ms`, `${(entry.share * 100).toFixed(1)} %`]);
console.log(`profile ${(summary.totalMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s\n`);
console.log(table(['module (self time)', 'ms', 'share of busy'], rows(summary.byModule)));
console.log();
console.log(table(['function (self time)', 'ms', 'share of busy'], rows(summary.byFunction)));
