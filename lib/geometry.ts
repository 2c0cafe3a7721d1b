// Parses conv / pool options into the resolved ConvGeometry / PoolGeometry the kernels take:
// expands numbers to [h, w], resolves 'same'/'valid' padding, computes and checks the
// output size. Shapes given here are already checked for rank by the ops.
import type { ConvGeometry, PoolGeometry } from './backend/types.js';
import { checkBoolean, checkInt, checkOptions } from './check.js';
import { checkedNumel, describe, formatShape } from './shape.js';

/** A size for both spatial axes (`3`), or one per axis (`[kh, kw]`). */
export type Pair = number | readonly [number, number];
/** number, [ph, pw], [top, left, bottom, right], or Keras' 'same' / 'valid'. */
export type Padding = number | readonly [number, number] | readonly [number, number, number, number] | 'same' | 'valid';

/**
 * conv2d()'s options, with PyTorch's names and defaults (stride 1, padding 0, dilation 1, groups
 * 1).
 */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
}

/**
 * maxPool2d()'s options, with PyTorch's names and defaults (stride = kernel, padding 0, dilation
 * 1, ceilMode false).
 */
export interface MaxPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  ceilMode?: boolean;
  /**
   * @internal ONNX's rule instead of PyTorch's: pads of any size, so a window may lie wholly in
   * the padding (max gives -inf, average 0). Set by importOnnx.
   */
  anyPadding?: boolean;
}

/**
 * avgPool2d()'s options, with PyTorch's names and defaults (stride = kernel, padding 0, ceilMode
 * false, countIncludePad true).
 */
export interface AvgPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Padding;
  ceilMode?: boolean;
  /** Whether padding counts in the divisor; defaults to true, as in PyTorch. */
  countIncludePad?: boolean;
  /** @internal As MaxPool2dOptions.anyPadding. */
  anyPadding?: boolean;
}

type Pads = [top: number, left: number, bottom: number, right: number];

export function parsePair(op: string, name: string, value: unknown, min: number): [number, number] {
  if (typeof value === 'number') {
    checkInt(op, name, value, min);
    return [value, value];
  }
  if (Array.isArray(value) && value.length === 2) {
    return [checkInt(op, `${name}[0]`, value[0], min), checkInt(op, `${name}[1]`, value[1], min)];
  }
  throw new TypeError(`${op}: ${name} must be a number or [h, w], got ${describe(value)}`);
}

/** Explicit pads, or 'same' (resolved later, when the input size is known). */
function parsePadding(op: string, value: unknown): Pads | 'same' {
  if (value === undefined || value === 'valid') return [0, 0, 0, 0];
  if (value === 'same') return 'same';
  if (typeof value === 'number') {
    checkInt(op, 'padding', value, 0);
    return [value, value, value, value];
  }
  if (Array.isArray(value) && value.length === 2) {
    const [ph, pw] = [checkInt(op, 'padding[0]', value[0], 0), checkInt(op, 'padding[1]', value[1], 0)];
    return [ph, pw, ph, pw];
  }
  if (Array.isArray(value) && value.length === 4) {
    return value.map((p, i) => checkInt(op, `padding[${i}]`, p, 0)) as Pads;
  }
  if (typeof value === 'string') {
    throw new RangeError(`${op}: padding must be 'same' or 'valid' when it is a string, got '${value}'`);
  }
  throw new TypeError(`${op}: padding must be a number, [ph, pw], [top, left, bottom, right], 'same' or 'valid', got ${describe(value)}`);
}

/** TensorFlow/Keras 'same': out = ceil(in/stride); the odd pixel of padding goes after. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function resolvePads(pads: Pads | 'same', h: number, w: number, k: number[], s: number[], d: number[]): Pads {
  if (pads !== 'same') return pads;
  const [top, bottom] = samePads(h, k[0], s[0], d[0]);
  const [left, right] = samePads(w, k[1], s[1], d[1]);
  return [top, left, bottom, right];
}

function outputSize(size: number, padBefore: number, padAfter: number, effKernel: number, stride: number, ceilMode: boolean): number {
  const span = size + padBefore + padAfter - effKernel;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // In ceil mode a last window that would start inside the after-padding is dropped.
  if (ceilMode && (out - 1) * stride >= size + padBefore) out -= 1;
  return out;
}

/**
 * As in PyTorch, only the batch of a conv or pooling input may be empty: an input with no rows,
 * columns or channels is a RangeError on every backend. (PyTorch 1.13 also accepts a conv input
 * with 0 channels, and returns a [N, 0, oh, ow] tensor whatever the weight's out channels; that
 * result contradicts the weight's shape, so convkit rejects such an input instead.)
 */
export function checkInputNotEmpty(op: string, x: readonly number[]): void {
  if (x[1] < 1 || x[2] < 1 || x[3] < 1) {
    throw new RangeError(`${op}: input ${formatShape(x)} must have at least 1 channel, row and column; only the batch may be 0`);
  }
}

/** Throws when the (dilated) kernel does not fit in the padded input. */
function checkKernelFits(op: string, x: readonly number[], k: number[], d: number[], pads: Pads, weight: readonly number[] | null): void {
  const eff = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
  const padded = [x[2] + pads[0] + pads[2], x[3] + pads[1] + pads[3]];
  if (eff[0] > padded[0] || eff[1] > padded[1]) {
    const kernel = d[0] === 1 && d[1] === 1 ? `kernel ${k[0]}x${k[1]}` : `dilated kernel ${eff[0]}x${eff[1]} (kernel ${k[0]}x${k[1]}, dilation ${d[0]}x${d[1]})`;
    throw new RangeError(`${op}: ${kernel} is larger than the padded input ${padded[0]}x${padded[1]} (input ${formatShape(x)}${weight ? `, weight ${formatShape(weight)}` : ''}, padding ${formatPads(pads)})`);
  }
}

function formatPads(p: Pads): string {
  return p.every((v) => v === p[0]) ? String(p[0]) : `[${p.join(',')}]`;
}

const INT32_MAX = 2 ** 31 - 1;

/** values as an Int32Array; a RangeError naming op when one does not fit (the kernels index in int64, but take int32 sizes). */
function pack(op: string, values: number[]): Int32Array {
  for (const v of values) {
    if (v > INT32_MAX) throw new RangeError(`${op}: a size, stride, padding or dilation of ${v} is larger than 2^31 - 1`);
  }
  return Int32Array.from(values);
}

/** ConvGeometry.packed for g's numbers. */
export function packConvGeometry(op: string, g: Omit<ConvGeometry, 'packed'>): Int32Array {
  return pack(op, [g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom, g.padRight,
    g.dilationH, g.dilationW, g.groups, g.oh, g.ow]);
}

/** PoolGeometry.packed for g's numbers. */
export function packPoolGeometry(op: string, g: Omit<PoolGeometry, 'packed'>): Int32Array {
  return pack(op, [g.n, g.c, g.h, g.w, g.kh, g.kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom, g.padRight,
    g.dilationH, g.dilationW, g.ceilMode ? 1 : 0, g.countIncludePad ? 1 : 0, g.oh, g.ow]);
}

/** Conv options parsed and checked, before any input is known (nn.Conv2d checks them at construction). */
export function parseConvOptions(op: string, options: unknown) {
  const opts = checkOptions<Conv2dOptions>(op, options, ['stride', 'padding', 'dilation', 'groups']);
  return {
    stride: parsePair(op, 'stride', opts.stride ?? 1, 1),
    dilation: parsePair(op, 'dilation', opts.dilation ?? 1, 1),
    groups: checkInt(op, 'groups', opts.groups ?? 1, 1),
    padding: parsePadding(op, opts.padding),
  };
}

/** Pooling kernel and options parsed and checked, before any input is known (the nn pooling layers check them at construction). */
export function parsePoolOptions(op: string, kernel: unknown, options: unknown, kind: PoolKind) {
  const opts = kind === 'max'
    ? checkOptions<MaxPool2dOptions>(op, options, ['stride', 'padding', 'dilation', 'ceilMode', 'anyPadding'])
    : checkOptions<AvgPool2dOptions>(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'anyPadding']);
  const k = parsePair(op, 'kernel', kernel, 1);
  const dilation = 'dilation' in opts && opts.dilation !== undefined ? parsePair(op, 'dilation', opts.dilation, 1) : [1, 1];
  const padding = parsePadding(op, opts.padding);
  const anyPadding = checkBoolean(op, 'anyPadding', opts.anyPadding, false);
  // Explicit padding is checked here, so a layer with impossible options fails when it is made.
  if (padding !== 'same' && !anyPadding) checkPoolPadding(op, padding, k, dilation, null);
  return {
    anyPadding,
    k,
    stride: opts.stride === undefined ? k : parsePair(op, 'stride', opts.stride, 1),
    dilation,
    ceilMode: checkBoolean(op, 'ceilMode', opts.ceilMode, false),
    countIncludePad: checkBoolean(op, 'countIncludePad', 'countIncludePad' in opts ? opts.countIncludePad : undefined, true),
    padding,
  };
}

/** As in PyTorch: a pooling window must always hold at least one real input, so pads are at most half the (dilated) kernel. */
function checkPoolPadding(op: string, pads: Pads, k: readonly number[], dilation: readonly number[], x: readonly number[] | null): void {
  const eff = [dilation[0] * (k[0] - 1) + 1, dilation[1] * (k[1] - 1) + 1];
  const maxPad = [Math.floor(eff[0] / 2), Math.floor(eff[1] / 2)];
  if (pads[0] > maxPad[0] || pads[2] > maxPad[0] || pads[1] > maxPad[1] || pads[3] > maxPad[1]) {
    throw new RangeError(`${op}: padding ${formatPads(pads)} is more than half the ${eff[0]}x${eff[1]} kernel (at most ${maxPad[0]} rows and ${maxPad[1]} columns${x ? `; input ${formatShape(x)}` : ''})`);
  }
}

function resolveConvGeometry(op: string, x: readonly number[], w: readonly number[], options: unknown): ConvGeometry {
  const { stride, dilation, groups, padding } = parseConvOptions(op, options);
  const [n, c, h, wd] = x;
  const [o, wc, kh, kw] = w;
  const shapes = () => `(input ${formatShape(x)}, weight ${formatShape(w)})`; // built only for an error
  if (c % groups !== 0) throw new RangeError(`${op}: input channels ${c} are not divisible by groups ${groups} ${shapes()}`);
  if (o % groups !== 0) throw new RangeError(`${op}: weight has ${o} output channels, not divisible by groups ${groups} ${shapes()}`);
  if (wc * groups !== c) {
    const how = groups > 1 ? ` (weight.shape[1] ${wc} x groups ${groups})` : '';
    throw new RangeError(`${op}: input has ${c} channels but weight expects ${wc * groups}${how} ${shapes()}`);
  }
  if (o < 1 || kh < 1 || kw < 1) throw new RangeError(`${op}: weight must have non-zero output channels and kernel size ${shapes()}`);
  checkInputNotEmpty(op, x);
  const pads = resolvePads(padding, h, wd, [kh, kw], stride, dilation);
  checkKernelFits(op, x, [kh, kw], dilation, pads, w);
  const oh = outputSize(h, pads[0], pads[2], dilation[0] * (kh - 1) + 1, stride[0], false);
  const ow = outputSize(wd, pads[1], pads[3], dilation[1] * (kw - 1) + 1, stride[1], false);
  checkedNumel(op, 'output shape', [n, o, oh, ow]);
  const g = {
    n, c, h, w: wd, o, kh, kw,
    strideH: stride[0], strideW: stride[1],
    padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
    dilationH: dilation[0], dilationW: dilation[1],
    groups, oh, ow,
  };
  return { ...g, packed: packConvGeometry(op, g) };
}

export type PoolKind = 'max' | 'avg';

function resolvePoolGeometry(op: string, x: readonly number[], kernel: unknown, options: unknown, kind: PoolKind): PoolGeometry {
  const { k, stride, dilation, ceilMode, countIncludePad, padding, anyPadding } = parsePoolOptions(op, kernel, options, kind);
  const [n, c, h, w] = x;
  checkInputNotEmpty(op, x);
  const pads = resolvePads(padding, h, w, k, stride, dilation);
  if (!anyPadding) checkPoolPadding(op, pads, k, dilation, x);
  const eff = [dilation[0] * (k[0] - 1) + 1, dilation[1] * (k[1] - 1) + 1];
  checkKernelFits(op, x, k, dilation, pads, null);
  const oh = outputSize(h, pads[0], pads[2], eff[0], stride[0], ceilMode);
  const ow = outputSize(w, pads[1], pads[3], eff[1], stride[1], ceilMode);
  checkedNumel(op, 'output shape', [n, c, oh, ow]);
  const g = {
    n, c, h, w, kh: k[0], kw: k[1],
    strideH: stride[0], strideW: stride[1],
    padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
    dilationH: dilation[0], dilationW: dilation[1],
    ceilMode, countIncludePad, oh, ow,
  };
  return { ...g, packed: packPoolGeometry(op, g) };
}

// ---- memo -----------------------------------------------------------------------------------
// A layer calls its op with the same options and input shape on every forward pass, so the
// resolved geometry (and its packed form) is kept, keyed by the shapes and the kernel, for
// options that cannot change: none at all, or an object from immutableOptions() (the nn layers'
// own). Any other options object is parsed on every call, since the caller may mutate it.

const MEMO_LIMIT = 256;
const memoWithoutOptions = new Map<string, ConvGeometry | PoolGeometry>();
const memoByOptions = new WeakMap<object, Map<string, ConvGeometry | PoolGeometry>>();
const immutable = new WeakSet<object>();

/** A frozen copy of options (arrays too) whose geometry may be kept between calls. */
export function immutableOptions<T extends object>(options: T): Readonly<T> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) copy[key] = Array.isArray(value) ? Object.freeze(value.slice()) : value;
  const frozen = Object.freeze(copy) as Readonly<T>;
  immutable.add(frozen);
  return frozen;
}

function memoTable(options: unknown): Map<string, ConvGeometry | PoolGeometry> | null {
  if (options === undefined) return memoWithoutOptions;
  if (typeof options !== 'object' || options === null || !immutable.has(options)) return null;
  let table = memoByOptions.get(options);
  if (!table) memoByOptions.set(options, (table = new Map()));
  return table;
}

function memoized<G extends ConvGeometry | PoolGeometry>(options: unknown, key: () => string, resolve: () => G): G {
  const table = memoTable(options);
  if (!table) return resolve();
  const k = key();
  const hit = table.get(k);
  if (hit) return hit as G;
  const g = resolve();
  Object.freeze(g);
  if (table.size >= MEMO_LIMIT) table.clear();
  table.set(k, g);
  return g;
}

const dims = (s: readonly number[]) => (s.length === 4 ? `${s[0]},${s[1]},${s[2]},${s[3]}` : s.join(','));

/** The resolved geometry of a conv2d of input shape x with weight shape w (shared, frozen when memoized). */
export function convGeometry(op: string, x: readonly number[], w: readonly number[], options: unknown): ConvGeometry {
  return memoized(options, () => `${dims(x)}|${dims(w)}`, () => resolveConvGeometry(op, x, w, options));
}

/** The resolved geometry of a pooling of input shape x (shared, frozen when memoized). */
export function poolGeometry(op: string, x: readonly number[], kernel: unknown, options: unknown, kind: PoolKind): PoolGeometry {
  // A kernel that is not a number or an array of numbers is left to the parser's error.
  const simple = typeof kernel === 'number' || (Array.isArray(kernel) && kernel.every((k) => typeof k === 'number'));
  return memoized(simple ? options : null, () => `${kind}|${dims(x)}|${String(kernel)}`, () => resolvePoolGeometry(op, x, kernel, options, kind));
}
