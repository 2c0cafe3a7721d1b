// The fuzz child process: runs properties (or the recorded regressions) and writes a JSON report.
// Before each case it appends the property and the case to the log file with a synchronous write,
// so when a native kernel kills this process the parent can name the call that did it.
//
//   node --import tsx tests/fuzz/child.ts --report FILE --log FILE --seed S --runs N
//        [--property a,b] [--path P] [--regressions]
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { hasCpu } from '../helpers.js';
import { properties, propertyByName } from './registry.js';
import { regressions } from './regressions.js';
import { errorText, type FuzzProperty } from './property.js';

export interface PropertyResult {
  property: string;
  status: 'passed' | 'failed' | 'skipped';
  seed?: number;
  numRuns?: number;
  /** The check's tags, counted over the runs (only meaningful when it passed). */
  tags?: Record<string, number>;
  counterexample?: string;
  path?: string;
  error?: string;
  /** The regression's note, for a regression run. */
  note?: string;
  ms: number;
}

const { values: args } = parseArgs({
  options: {
    report: { type: 'string' }, log: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' },
    property: { type: 'string' }, path: { type: 'string' }, regressions: { type: 'boolean' },
  },
});
if (!args.report || !args.log) throw new TypeError('child: --report and --log are required');

const logFd = openSync(args.log, 'w');
const results: PropertyResult[] = [];
const report = () => writeFileSync(args.report!, JSON.stringify({ results }, null, 1));

function logCase(property: string, value: unknown): void {
  writeSync(logFd, `${property}\t${fc.stringify(value)}\n`);
}

async function runProperty(p: FuzzProperty, seed: number, numRuns: number, path: string | undefined): Promise<PropertyResult> {
  const started = Date.now();
  if (p.needsCpu && !hasCpu) return { property: p.name, status: 'skipped', error: 'needs the native cpu backend', ms: 0 };
  const tags: Record<string, number> = {};
  const prop = fc.asyncProperty(p.arbitrary, async (value) => {
    logCase(p.name, value);
    const tag = await p.check(value);
    if (tag) tags[tag] = (tags[tag] ?? 0) + 1;
  });
  const details = await fc.check(prop, { seed, numRuns, path, verbose: 0 });
  const base = { property: p.name, seed, numRuns: details.numRuns, ms: Date.now() - started };
  if (!details.failed) return { ...base, status: 'passed', tags };
  return {
    ...base,
    status: 'failed',
    counterexample: fc.stringify(details.counterexample?.[0]),
    path: details.counterexamplePath ?? undefined,
    error: details.errorInstance instanceof Error ? `${errorText(details.errorInstance)}\n${details.errorInstance.stack ?? ''}` : String(details.errorInstance),
  };
}

async function runRegressions(): Promise<void> {
  for (const [i, r] of regressions.entries()) {
    const property = `${r.property} #${i}`;
    if (r.open) {
      results.push({ property, status: 'skipped', note: r.note, error: `open: ${r.open}`, ms: 0 });
      continue;
    }
    const p = propertyByName(r.property);
    if (p.needsCpu && !hasCpu) {
      results.push({ property, status: 'skipped', note: r.note, error: 'needs the native cpu backend', ms: 0 });
      continue;
    }
    const started = Date.now();
    logCase(property, r.example);
    try {
      await p.check(r.example);
      results.push({ property, status: 'passed', note: r.note, ms: Date.now() - started });
    } catch (err) {
      results.push({ property, status: 'failed', note: r.note, counterexample: fc.stringify(r.example), error: errorText(err), ms: Date.now() - started });
    }
    report();
  }
}

if (args.regressions) {
  await runRegressions();
} else {
  const seed = Number(args.seed ?? Date.now());
  const numRuns = Number(args.runs ?? 100);
  const selected = args.property ? args.property.split(',').map(propertyByName) : properties;
  for (const p of selected) {
    results.push(await runProperty(p, seed, numRuns, args.path));
    report();
  }
}
report();
closeSync(logFd);
// Native thread pools or pending handles must not keep a finished child alive.
process.exit(0);
