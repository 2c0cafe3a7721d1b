// Runs tests/fuzz/child.ts in a child process and says what happened: each property's result,
// or, when the child died (a signal, an exit without a report) or stopped making progress, the
// last case it logged before that, which is the call that crashed or hung.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PropertyResult } from './child.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
/** How long the child may take to log its first case (transpiling lib, loading the addon). */
const STARTUP_MS = 60_000;

export interface ChildOptions {
  properties?: string[];
  seed?: number;
  runs?: number;
  path?: string;
  regressions?: boolean;
  /** Kill the child when its log has not grown for this long (a hang). */
  stallMs?: number;
  /** Echo the child's stderr as it comes (the long fuzz run), besides keeping its tail. */
  echo?: boolean;
}

export interface ChildOutcome {
  results: PropertyResult[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stalled: boolean;
  /** The last case the child logged (property, tab, case), when it did not finish cleanly. */
  lastCase: string | null;
  stderrTail: string;
}

function lastLine(file: string): string | null {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text ? text.slice(text.lastIndexOf('\n') + 1) : null;
  } catch {
    return null;
  }
}

export async function runChild(o: ChildOptions): Promise<ChildOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-fuzz-child-'));
  const reportFile = join(dir, 'report.json');
  const logFile = join(dir, 'cases.log');
  const args = ['--import', 'tsx', join(here, 'child.ts'), '--report', reportFile, '--log', logFile];
  if (o.regressions) args.push('--regressions');
  if (o.properties) args.push('--property', o.properties.join(','));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.runs !== undefined) args.push('--runs', String(o.runs));
  if (o.path !== undefined) args.push('--path', o.path);
  try {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderrTail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (o.echo) process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    });
    let stalled = false;
    let lastSize = -1;
    let lastGrowth = Date.now();
    const stallMs = o.stallMs ?? 60_000;
    const watchdog = setInterval(() => {
      let size = 0;
      try {
        size = statSync(logFile).size;
      } catch { /* not created yet */ }
      if (size !== lastSize) {
        lastSize = size;
        lastGrowth = Date.now();
      } else if (Date.now() - lastGrowth > (size === 0 ? Math.max(stallMs, STARTUP_MS) : stallMs)) { // loading tsx and the addon comes first
        stalled = true;
        child.kill('SIGKILL');
      }
    }, 250);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('exit', (c, s) => done([c, s])));
    clearInterval(watchdog);
    let results: PropertyResult[] = [];
    try {
      results = (JSON.parse(readFileSync(reportFile, 'utf8')) as { results: PropertyResult[] }).results;
    } catch { /* the child died before its first report */ }
    const clean = code === 0 && signal === null && !stalled;
    return { results, code, signal, stalled, lastCase: clean ? null : lastLine(logFile), stderrTail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per problem: a failed property (with how to replay it), a crash or a hang. Empty when all is well. */
export function problems(outcome: ChildOutcome): string[] {
  const out: string[] = [];
  for (const r of outcome.results) {
    if (r.status !== 'failed') continue;
    const replay = r.path ? `\n  replay: npm run fuzz -- --property ${r.property.replace(/ #\d+$/, '')} --seed ${r.seed} --path ${r.path} --runs 1` : '';
    out.push(`${r.property} failed${r.seed !== undefined ? ` (seed ${r.seed})` : ''}${r.note ? ` [${r.note}]` : ''}\n  counterexample: ${r.counterexample}\n  error: ${r.error}${replay}`);
  }
  if (outcome.stalled) out.push(`the child stopped making progress (a hang) while running:\n  ${outcome.lastCase}`);
  else if (outcome.signal) out.push(`the child was killed by ${outcome.signal} (a crash) while running:\n  ${outcome.lastCase}\n  stderr: ${outcome.stderrTail}`);
  else if (outcome.code !== 0) out.push(`the child exited with code ${outcome.code}; last case:\n  ${outcome.lastCase}\n  stderr: ${outcome.stderrTail}`);
  return out;
}
