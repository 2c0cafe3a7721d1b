// Argument checks the initializers share, on top of lib/check.ts.
import { checkOptions, checkTensor } from '../check.js';
import { Generator, defaultGenerator } from '../random.js';
import { describe } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Every random initializer takes { generator } last; the default is the global one. */
export interface GeneratorOption {
  generator?: Generator;
}

/** Shows a value in a message, quoting strings as the user wrote them. */
export function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : describe(value);
}

export function checkInitTensor(op: string, t: unknown): Tensor {
  return checkTensor(op, 'tensor', t);
}

/** The options object with its known keys, and the generator it names (or the default). */
export function initOptions<T extends GeneratorOption>(op: string, opts: unknown, known: readonly (keyof T & string)[]): [Partial<T>, Generator] {
  const o = checkOptions<T>(op, opts, known);
  const g = o.generator ?? defaultGenerator();
  if (!(g instanceof Generator)) throw new TypeError(`${op}: generator must be a Generator, got ${describe(g)}`);
  return [o, g];
}

/** A finite number, or the fallback when undefined. */
export function numberArg(op: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} must be finite, got ${value}`);
  return value;
}

/** A finite number >= 0 (a standard deviation or a gain). */
export function nonNegativeArg(op: string, name: string, value: unknown, fallback: number): number {
  const v = numberArg(op, name, value, fallback);
  if (v < 0) throw new RangeError(`${op}: ${name} must be >= 0, got ${v}`);
  return v;
}
