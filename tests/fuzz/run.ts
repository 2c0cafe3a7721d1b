// The long fuzz run: `npm run fuzz -- --runs N [--seed S] [--property a,b] [--path P]`.
// Unseeded by default (it prints the seed it drew). Each property runs N cases in its own child
// process; a finding prints the seed, path and counterexample, and the entry to add to
// tests/fuzz/regressions.ts once it is fixed. Exits 1 on any finding, crash or hang.
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { problems, runChild } from './harness.js';
import { properties } from './registry.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string' }, seed: { type: 'string' }, property: { type: 'string' }, path: { type: 'string' } },
});
const runs = Number(args.runs ?? 1000);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`fuzz: --runs must be a positive integer, got ${args.runs}`);
const seed = args.seed === undefined ? randomInt(2 ** 31 - 1) : Number(args.seed);
const names = args.property ? args.property.split(',') : properties.map((p) => p.name);

console.log(`fuzz: seed ${seed}, ${runs} runs per property, ${names.length} properties (replay with --seed ${seed})`);
const started = Date.now();
const findings: string[] = [];
for (const name of names) {
  const t = Date.now();
  const outcome = await runChild({ properties: [name], seed, runs, path: args.path, stallMs: 60_000, echo: true });
  const found = problems(outcome);
  const r = outcome.results[0];
  const status = found.length ? 'FINDING' : r?.status ?? 'no result';
  const tags = r?.tags && Object.keys(r.tags).length ? ` ${JSON.stringify(r.tags)}` : '';
  console.log(`  ${name}: ${status}, ${r?.numRuns ?? 0} runs in ${((Date.now() - t) / 1000).toFixed(1)} s${tags}`);
  for (const f of found) {
    findings.push(f);
    console.log(`\n${f}\n`);
    if (r?.counterexample) console.log(`  once fixed, add to tests/fuzz/regressions.ts:\n  { property: '${name}', example: ${r.counterexample}, note: '<what it found; the fix>' },\n`);
  }
}
console.log(`fuzz: ${findings.length} finding(s) in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed}`);
process.exit(findings.length ? 1 : 0);
