// Timing through the `benchmark` package: median of its samples, in milliseconds.
import Benchmark from 'benchmark';

export interface Timing {
  medianMs: number;
  samples: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs fn repeatedly for about maxTime seconds (at least minSamples samples). */
export function measure(name: string, fn: () => void, maxTime = 1.5): Timing {
  const bench = new Benchmark(name, fn, { maxTime, minSamples: 5, initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  return { medianMs: median(bench.stats.sample) * 1000, samples: bench.stats.sample.length };
}
