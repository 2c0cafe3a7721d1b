// Order statistics for the rows that report a spread, not only a median.
export { median } from './measure.js';

/** The p-th percentile (0..100) with linear interpolation between ranks, as numpy's default. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
