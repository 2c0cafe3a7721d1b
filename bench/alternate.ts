// Alternating rounds for comparing a public-API call with its kernels on a noisy, shared
// machine: each round times a batch of calls of every variant in turn, so a burst of load
// lands on all of them alike, and the per-round figures are paired. A variant that returns a
// promise (an async call: runAsync, onnxruntime's session.run) is awaited before its next call;
// its time includes the await, as a caller's loop sees it.
import { median } from './stats.js';

export interface Alternated {
  /** Seconds per call, one entry per round, for each variant. */
  perCall: number[][];
  /** Minor page faults per call, one entry per round, for each variant. */
  faultsPerCall: number[][];
  callsPerRound: number;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

async function timeBatch(fn: () => unknown, calls: number, faults?: number[]): Promise<number> {
  const f0 = process.resourceUsage().minorPageFault;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const r = fn();
    if (isThenable(r)) await r;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 / calls;
  faults?.push((process.resourceUsage().minorPageFault - f0) / calls);
  return seconds;
}

/**
 * Calls per round are sized so that the slowest variant's batch takes about roundSeconds
 * (within [minCalls, maxCalls]), measured after a warm-up.
 */
export async function alternate(variants: Array<() => unknown>, opts: { rounds?: number; roundSeconds?: number; minCalls?: number; maxCalls?: number } = {}): Promise<Alternated> {
  const { rounds = 7, roundSeconds = 0.1, minCalls = 5, maxCalls = 20000 } = opts;
  // Calibrate on warm code: each variant runs for ~roundSeconds/2 first (JIT, workspaces), and
  // the mean of its second half sizes the rounds (a mean over many calls spreads a GC pause).
  let slowest = 0;
  for (const fn of variants) {
    const times: number[] = [];
    for (let total = 0; total < roundSeconds / 2 || times.length < 4;) {
      const t0 = process.hrtime.bigint();
      const r = fn();
      if (isThenable(r)) await r;
      const t = Number(process.hrtime.bigint() - t0) / 1e9;
      times.push(t);
      total += t;
    }
    const warm = times.slice(times.length >> 1);
    slowest = Math.max(slowest, warm.reduce((a, b) => a + b, 0) / warm.length);
  }
  const calls = Math.max(minCalls, Math.min(maxCalls, Math.round(roundSeconds / slowest)));
  const perCall = variants.map(() => [] as number[]);
  const faultsPerCall = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of variants.entries()) perCall[i].push(await timeBatch(fn, calls, faultsPerCall[i]));
    // Between rounds only (for sync variants), as a program's event loop would: finalizers and timers run here.
    await new Promise(setImmediate);
  }
  return { perCall, faultsPerCall, callsPerRound: calls };
}

/** The median over rounds of (variant a - variant b), per call: paired, so shared noise cancels. */
export function medianDifference(a: number[], b: number[]): number {
  return median(a.map((v, i) => v - b[i]));
}

/** The median over rounds of (b / a): how many times faster a is than b, paired round by round. */
export function medianSpeedup(a: number[], b: number[]): number {
  return median(a.map((v, i) => b[i] / v));
}
