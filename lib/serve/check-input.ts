// Argument checks the batcher and the worker pool share: the sample shape, one sample, and the
// per-call { signal } option.
import { checkInt, checkOptions, checkTensor } from '../check.js';
import { describe, formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** inputShape: one sample's shape without the batch dimension, e.g. [1, 32, 32]. */
export function checkInputShape(op: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${op}: inputShape must be one sample's shape without the batch dimension, e.g. [1, 32, 32], got ${describe(value)}`);
  }
  return value.map((d, i) => checkInt(op, `inputShape[${i}]`, d, 1));
}

/**
 * x as one sample: a live host tensor of shape inputShape or [1, ...inputShape]. Returns
 * whether it had the batch dimension, so that the result can mirror it.
 */
export function checkSample(op: string, x: unknown, inputShape: readonly number[]): boolean {
  const t: Tensor = checkTensor(op, 'x', x);
  t.checkLive(op);
  if (t.device !== 'cpu') throw new RangeError(`${op}: x must be on the cpu device (samples are batched on the host), got ${t.device}`);
  const s = t.shape;
  const same = (offset: number) => s.length === inputShape.length + offset && inputShape.every((d, i) => s[i + offset] === d);
  if (same(0)) return false;
  if (s[0] === 1 && same(1)) return true;
  throw new RangeError(`${op}: x must be one sample ${formatShape(inputShape)} or [1,${inputShape.join(',')}], got shape ${formatShape(s)}`);
}

/** The options of one request: an AbortSignal that cancels it. */
export interface CallOptions {
  /** Aborting it rejects the call with signal.reason (the work is dropped if it has not started). */
  signal?: AbortSignal;
}

export function checkCallOptions(op: string, options: unknown): AbortSignal | undefined {
  const o = checkOptions<CallOptions>(op, options, ['signal']);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`${op}: signal must be an AbortSignal, got ${describe(o.signal)}`);
  return o.signal;
}
