// Option checks the optimizers and schedulers share: a number within bounds, named in the
// message ("SGD: momentum must be >= 0, got -0.5").
import { checkFiniteNumber } from '../check.js';

export interface Bounds {
  /** value >= min (or > min when minExclusive). */
  min?: number;
  minExclusive?: boolean;
  /** value <= max (or < max when maxExclusive). */
  max?: number;
  maxExclusive?: boolean;
}

/** A finite number within bounds, or the fallback when undefined. */
export function numberOption(op: string, name: string, value: unknown, fallback: number, bounds: Bounds = {}): number {
  if (value === undefined) return fallback;
  const v = checkFiniteNumber(op, name, value);
  const { min, max, minExclusive = false, maxExclusive = false } = bounds;
  const belowMin = min !== undefined && (minExclusive ? v <= min : v < min);
  const aboveMax = max !== undefined && (maxExclusive ? v >= max : v > max);
  if (belowMin || aboveMax) throw new RangeError(`${op}: ${name} must be ${describeBounds(bounds)}, got ${v}`);
  return v;
}

function describeBounds({ min, max, minExclusive = false, maxExclusive = false }: Bounds): string {
  if (min !== undefined && max !== undefined) return `in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return `${minExclusive ? '>' : '>='} ${min}`;
  return `${maxExclusive ? '<' : '<='} ${max}`;
}
