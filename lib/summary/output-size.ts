// The shape walkthrough's arithmetic for one dimension: the output size of a convolution or
// pooling window, and how many identical layers take a size down (or up) to another.
//
// outputSize generalises the walkthrough's (W - F + 2P)/S + 1 to
//   out = floor((W + P_before + P_after - D*(F-1) - 1) / S) + 1
// (ceil in ceil mode, where a last window that would start in the right padding is dropped).
// The numbers come from lib/geometry.ts (convGeometry, or poolGeometry in ceil mode), the same
// code the ops use, so the calculator and the kernels cannot disagree.
import { checkBoolean, checkInt, checkOptions } from '../check.js';
import { convGeometry, poolGeometry } from '../geometry.js';
import { describe } from '../shape.js';

/** One layer's geometry along one axis, for outputSize() and outputSizeDetail(). */
export interface OutputSizeOptions {
  /** The input size W along the dimension. */
  size: number;
  /** The kernel (filter) size F. */
  kernel: number;
  /** S, default 1. */
  stride?: number;
  /** P on both sides, [before, after], or Keras' 'same' / 'valid'; default 0. */
  padding?: number | readonly [number, number] | 'same' | 'valid';
  /** D, default 1 (the kernel then spans D*(F-1)+1 inputs). */
  dilation?: number;
  /** Round up instead of down (pooling's ceil mode); default false. */
  ceilMode?: boolean;
}

/** What outputSizeDetail() returns. */
export interface OutputSizeDetail {
  /** The output size the layer produces (floored, or ceiled in ceil mode). */
  size: number;
  /** The walkthrough's (W + P_before + P_after - D*(F-1) - 1)/S + 1 before rounding. */
  value: number;
  /** Whether value is an integer: the walkthrough calls a non-integer result invalid (the last inputs are not covered by a whole window). */
  exact: boolean;
  /** The resolved padding [before, after] ('same' resolved for this size). */
  padding: [number, number];
}

const OPTIONS = ['size', 'kernel', 'stride', 'padding', 'dilation', 'ceilMode'] as const;

/** The output size with the details: the unrounded value, whether it is exact, the padding. */
export function outputSizeDetail(options: OutputSizeOptions): OutputSizeDetail {
  const op = 'outputSize';
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${op}: expected an options object like { size, kernel, stride, padding, dilation, ceilMode }, got ${describe(options)}`);
  }
  const opts = checkOptions<OutputSizeOptions>(op, options, OPTIONS);
  const size = checkInt(op, 'size', opts.size, 1);
  const kernel = checkInt(op, 'kernel', opts.kernel, 1);
  const stride = checkInt(op, 'stride', opts.stride ?? 1, 1);
  const dilation = checkInt(op, 'dilation', opts.dilation ?? 1, 1);
  const ceilMode = checkBoolean(op, 'ceilMode', opts.ceilMode, false);
  const padding = opts.padding ?? 0;
  let pads: [number, number, number, number] | 'same' | 'valid';
  if (padding === 'same' || padding === 'valid') {
    pads = padding;
  } else if (typeof padding === 'number') {
    checkInt(op, 'padding', padding, 0);
    pads = [0, padding, 0, padding];
  } else if (Array.isArray(padding) && padding.length === 2) {
    pads = [0, checkInt(op, 'padding[0]', padding[0], 0), 0, checkInt(op, 'padding[1]', padding[1], 0)];
  } else {
    throw new TypeError(`${op}: padding must be a number, [before, after], 'same' or 'valid', got ${describe(padding)}`);
  }
  const effective = dilation * (kernel - 1) + 1;
  if (Array.isArray(pads) && effective > size + pads[1] + pads[3]) {
    const k = dilation === 1 ? `kernel ${kernel}` : `dilated kernel ${effective} (kernel ${kernel}, dilation ${dilation})`;
    throw new RangeError(`${op}: ${k} is larger than the padded input ${size + pads[1] + pads[3]} (size ${size}, padding ${pads[1]}+${pads[3]})`);
  }
  // One row of height 1: only the width matters.
  const x = [1, 1, 1, size];
  const g = ceilMode
    ? poolGeometry(op, x, [1, kernel], { stride: [1, stride], padding: pads, dilation: [1, dilation], ceilMode: true }, 'max')
    : convGeometry(op, x, [1, 1, 1, kernel], { stride: [1, stride], padding: pads, dilation: [1, dilation] });
  const value = (size + g.padLeft + g.padRight - effective) / stride + 1;
  return { size: g.ow, value, exact: Number.isInteger(value), padding: [g.padLeft, g.padRight] };
}

/**
 * Output size of a convolution or pooling window along one dimension:
 * floor((size + 2P - D(F-1) - 1)/S) + 1, or ceil in ceil mode. outputSize({ size: 32, kernel: 5 }) is 28.
 * A stride that does not divide evenly floors (see outputSizeDetail().exact); a kernel
 * larger than the padded input is a RangeError.
 */
export function outputSize(options: OutputSizeOptions): number {
  return outputSizeDetail(options).size;
}

/** Whether the walkthrough's (W - F + 2P)/S + 1 is an integer for these options. */
export function isExactOutputSize(options: OutputSizeOptions): boolean {
  return outputSizeDetail(options).exact;
}

/** The layer that stepsToReach() repeats (default a 3x3 kernel, stride 1, no padding). */
export interface StepsOptions {
  /** Default 3. */
  kernel?: number;
  /** Default 1. */
  stride?: number;
  /** Default 0; 'same' keeps the size at stride 1, so it never reaches another size. */
  padding?: OutputSizeOptions['padding'];
  /** Default 1. */
  dilation?: number;
}

/** What stepsToReach() returns. */
export interface StepsResult {
  /** How many layers it takes. */
  steps: number;
  /** The sizes from `from` to `to`, both included (steps + 1 of them). */
  sizes: number[];
  /** Whether every step was exact by the walkthrough's formula (no inputs left uncovered). */
  exact: boolean;
}

/** stepsToReach lists every size, so it stops at this many steps instead of running for minutes. */
const MAX_STEPS = 1_000_000;

/**
 * How many identical layers take a size from `from` to `to`: stepsToReach(199, 1) (3x3,
 * stride 1, no padding) is 99 steps, 199 -> 197 -> ... -> 3 -> 1. RangeError when `to` is
 * never hit exactly (the sizes jump over it, stop changing, or the kernel stops fitting).
 */

export function stepsToReach(from: number, to: number, options: StepsOptions = {}): StepsResult {
  const op = 'stepsToReach';
  checkInt(op, 'from', from, 1);
  checkInt(op, 'to', to, 1);
  const opts = checkOptions<StepsOptions>(op, options, ['kernel', 'stride', 'padding', 'dilation']);
  const layer = { kernel: opts.kernel ?? 3, stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1 };
  const how = `kernel ${layer.kernel}, stride ${layer.stride}, padding ${Array.isArray(layer.padding) ? layer.padding.join('+') : String(layer.padding)}${layer.dilation === 1 ? '' : `, dilation ${layer.dilation}`}`;
  const sizes = [from];
  let exact = true;
  let current = from;
  while (current !== to) {
    let next: OutputSizeDetail;
    try {
      next = outputSizeDetail({ size: current, ...layer });
    } catch (e) {
      if (e instanceof RangeError) {
        throw new RangeError(`${op}: ${to} cannot be reached from ${from} with ${how}: the layer does not fit size ${current} after ${sizes.length - 1} steps (${e.message})`);
      }
      throw e;
    }
    // Each step must get strictly closer without jumping over the target.
    if (Math.abs(next.size - to) >= Math.abs(current - to) || Math.sign(next.size - to) === -Math.sign(current - to)) {
      const what = next.size === current ? `the size stays ${current}` : `the sizes go ${current} -> ${next.size}`;
      throw new RangeError(`${op}: ${to} cannot be reached from ${from} with ${how}: ${what} after ${sizes.length - 1} steps`);
    }
    if (sizes.length === 1 && layer.stride === 1) {
      // With stride 1 every step moves by the same amount: the count is known before walking.
      const steps = Math.ceil(Math.abs(to - current) / Math.abs(next.size - current));
      if (steps > MAX_STEPS) throw new RangeError(`${op}: reaching ${to} from ${from} with ${how} takes ${steps} steps, more than ${MAX_STEPS} (every size is listed)`);
    }
    exact &&= next.exact;
    current = next.size;
    sizes.push(current);
  }
  return { steps: sizes.length - 1, sizes, exact };
}
