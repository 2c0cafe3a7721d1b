// Seeded random problems for every op, used to compare backends. Each case makes fresh
// inputs (all requiring grad) from its own seed, so every backend sees identical data.
import {
  add, avgPool2d, clamp, concat, conv2d, crossEntropy, div, flatten, gemm, globalAvgPool2d, globalMaxPool2d,
  leakyRelu, linear, logSoftmax, matmul, maxPool2d, mean, mul, permute, relu, reshape, sigmoid, slice,
  softmax, split, sub, sum, tanh, tensor, transpose,
} from '../lib/index.js';
import type { Padding, Tensor } from '../lib/index.js';
import { pick, randData, randInt, randTensor, rng, type Rand } from './helpers.js';

export interface OpCase {
  op: string;
  label: string;
  seed: number;
  makeInputs: () => Tensor[];
  forward: (inputs: Tensor[]) => Tensor;
  /** The longest reduction in forward or backward, to loosen tolerances for big sums. */
  reduction: number;
}

function inputs(seed: number, shapes: number[][]): () => Tensor[] {
  return () => {
    const r = rng(seed);
    return shapes.map((s) => randTensor(r, s, true));
  };
}

function randPadding(r: Rand, maxH: number, maxW: number): Padding {
  const p = () => [randInt(r, 0, maxH), randInt(r, 0, maxW)];
  switch (randInt(r, 0, 4)) {
    case 0: return randInt(r, 0, Math.min(maxH, maxW));
    case 1: return p() as [number, number];
    case 2: {
      const [t, l] = p();
      const [b, rr] = p();
      return [t, l, b, rr];
    }
    case 3: return 'same';
    default: return 'valid';
  }
}

function fmt(v: unknown): string {
  return JSON.stringify(v);
}

function convCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 1000 + i;
    const groups = pick(r, [1, 1, 1, 2, 3, 4]);
    const cin = groups * randInt(r, 1, 4);
    const cout = groups * randInt(r, 1, 4);
    const kh = randInt(r, 1, 5);
    const kw = pick(r, [kh, randInt(r, 1, 5)]);
    const stride: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)];
    const dilation: [number, number] = r() < 0.3 ? [randInt(r, 1, 3), randInt(r, 1, 3)] : [1, 1];
    const padding = randPadding(r, 3, 3);
    const effH = dilation[0] * (kh - 1) + 1;
    const effW = dilation[1] * (kw - 1) + 1;
    const big = i % 15 === 0; // a few large batches
    const n = big ? 64 : pick(r, [1, 1, 2, 3, 5]);
    const h = effH + randInt(r, 0, big ? 4 : 12);
    const w = effW + randInt(r, 0, big ? 4 : 12);
    const withBias = r() < 0.7;
    const opts = { stride, padding, dilation, groups };
    const shapes = [[n, cin, h, w], [cout, cin / groups, kh, kw], ...(withBias ? [[cout]] : [])];
    out.push({
      op: 'conv2d', seed, label: `x ${fmt(shapes[0])} w ${fmt(shapes[1])} bias ${withBias} ${fmt(opts)}`,
      makeInputs: inputs(seed, shapes),
      forward: ([x, wt, b]) => conv2d(x, wt, b ?? null, opts),
      reduction: Math.max((cin / groups) * kh * kw, n * h * w),
    });
  }
  // The unpadded stride-1 1x1 conv (native fast path) and a deep reduction.
  for (const [i, shapes, opts] of [
    [0, [[4, 16, 7, 9], [8, 16, 1, 1], [8]], {}],
    [1, [[2, 6, 5, 5], [6, 3, 1, 1]], { groups: 2 }],
    [2, [[2, 32, 12, 12], [16, 32, 5, 5], [16]], { padding: 'same' }],
  ] as const) {
    const seed = 1900 + i;
    out.push({
      op: 'conv2d', seed, label: `x ${fmt(shapes[0])} w ${fmt(shapes[1])} ${fmt(opts)}`,
      makeInputs: inputs(seed, shapes as unknown as number[][]),
      forward: ([x, wt, b]) => conv2d(x, wt, b ?? null, opts as object),
      reduction: 32 * 25,
    });
  }
}

function poolCases(r: Rand, count: number, kind: 'max' | 'avg', out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = (kind === 'max' ? 2000 : 3000) + i;
    const kh = randInt(r, 1, 4);
    const kw = pick(r, [kh, randInt(r, 1, 4)]);
    const dilation: [number, number] = kind === 'max' && r() < 0.3 ? [randInt(r, 1, 2), randInt(r, 1, 2)] : [1, 1];
    const effH = dilation[0] * (kh - 1) + 1;
    const effW = dilation[1] * (kw - 1) + 1;
    const padding = r() < 0.2 ? pick(r, ['same', 'valid'] as const) : randPadding(r, Math.floor(effH / 2), Math.floor(effW / 2));
    const stride = r() < 0.3 ? undefined : [randInt(r, 1, 3), randInt(r, 1, 3)] as [number, number];
    const ceilMode = r() < 0.5;
    const n = i % 12 === 0 ? 64 : pick(r, [1, 2, 3]);
    const shape = [n, randInt(r, 1, 4), effH + randInt(r, 0, 9), effW + randInt(r, 0, 9)];
    const kernel: [number, number] = [kh, kw];
    if (kind === 'max') {
      const opts = { stride, padding, dilation, ceilMode };
      out.push({
        op: 'maxPool2d', seed, label: `x ${fmt(shape)} kernel ${fmt(kernel)} ${fmt(opts)}`,
        makeInputs: inputs(seed, [shape]),
        forward: ([x]) => maxPool2d(x, kernel, opts),
        reduction: kh * kw,
      });
    } else {
      const opts = { stride, padding, ceilMode, countIncludePad: r() < 0.5 };
      out.push({
        op: 'avgPool2d', seed, label: `x ${fmt(shape)} kernel ${fmt(kernel)} ${fmt(opts)}`,
        makeInputs: inputs(seed, [shape]),
        forward: ([x]) => avgPool2d(x, kernel, opts),
        reduction: kh * kw,
      });
    }
  }
}

function globalPoolCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 3500 + i;
    const shape = [randInt(r, 1, 6), randInt(r, 1, 5), randInt(r, 1, 13), randInt(r, 1, 13)];
    const useMax = i % 2 === 0;
    out.push({
      op: useMax ? 'globalMaxPool2d' : 'globalAvgPool2d', seed, label: `x ${fmt(shape)}`,
      makeInputs: inputs(seed, [shape]),
      forward: ([x]) => (useMax ? globalMaxPool2d(x) : globalAvgPool2d(x)),
      reduction: shape[2] * shape[3],
    });
  }
}

function gemmCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 4000 + i;
    const big = i % 10 === 0;
    const m = randInt(r, 1, big ? 70 : 33);
    const n = randInt(r, 1, big ? 70 : 33);
    const k = big ? randInt(r, 500, 1200) : randInt(r, 1, 40);
    const transA = r() < 0.5;
    const transB = r() < 0.5;
    const cShape = pick(r, [null, [], [1], [n], [1, n], [m, 1], [m, n]]);
    const opts = { transA, transB, alpha: pick(r, [1, 1, 0.5, -2]), beta: pick(r, [1, 1, 0.25, 0]) };
    const shapes = [transA ? [k, m] : [m, k], transB ? [n, k] : [k, n], ...(cShape ? [cShape] : [])];
    out.push({
      op: 'gemm', seed, label: `a ${fmt(shapes[0])} b ${fmt(shapes[1])} c ${fmt(cShape)} ${fmt(opts)}`,
      makeInputs: inputs(seed, shapes),
      forward: ([a, b, c]) => gemm(a, b, c ?? null, opts),
      reduction: Math.max(k, m, n),
    });
  }
}

/** [a, b] shapes covering 2-D, 1-D and broadcast batch dims. */
function matmulShapes(r: Rand, i: number): [number[], number[]] {
  const m = randInt(r, 1, 9);
  const k = randInt(r, 1, 12);
  const n = randInt(r, 1, 9);
  switch (i % 8) {
    case 0: return [[m, k], [k, n]];
    case 1: return [[k], [k, n]];
    case 2: return [[m, k], [k]];
    case 3: return [[k], [k]];
    case 4: return [[randInt(r, 2, 5), m, k], [k, n]]; // folds into one GEMM
    case 5: return [[3, 1, m, k], [4, k, n]]; // broadcast both ways
    case 6: return [[randInt(r, 1, 4), m, k], [k]];
    default: {
      const b = randInt(r, 2, 6);
      return [[1, m, k], [b, k, n]];
    }
  }
}

function matmulCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 5000 + i;
    const shapes = matmulShapes(r, i);
    out.push({
      op: 'matmul', seed, label: `a ${fmt(shapes[0])} b ${fmt(shapes[1])}`,
      makeInputs: inputs(seed, shapes),
      forward: ([a, b]) => matmul(a, b),
      reduction: 64,
    });
  }
}

function linearCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 5500 + i;
    const n = pick(r, [1, 7, 64]);
    const fin = randInt(r, 1, 300);
    const fout = randInt(r, 1, 40);
    const withBias = i % 3 !== 0;
    const shapes = [[n, fin], [fout, fin], ...(withBias ? [[fout]] : [])];
    out.push({
      op: 'linear', seed, label: `x ${fmt(shapes[0])} w ${fmt(shapes[1])} bias ${withBias}`,
      makeInputs: inputs(seed, shapes),
      forward: ([x, w, b]) => linear(x, w, b ?? null),
      reduction: Math.max(fin, n),
    });
  }
}

function randShape(r: Rand): number[] {
  const rank = randInt(r, 0, 4);
  return Array.from({ length: rank }, () => randInt(r, 1, 7));
}

function activationCases(r: Rand, count: number, out: OpCase[]): void {
  const ops: Array<[string, (x: Tensor) => Tensor]> = [
    ['relu', relu], ['leakyRelu', (x) => leakyRelu(x)], ['leakyRelu(0.2)', (x) => leakyRelu(x, 0.2)],
    ['sigmoid', sigmoid], ['tanh', tanh],
  ];
  for (let i = 0; i < count; i++) {
    const seed = 6000 + i;
    const [name, f] = ops[i % ops.length];
    const shape = randShape(r);
    out.push({
      op: name, seed, label: `x ${fmt(shape)}`,
      makeInputs: () => [tensor(randData(rng(seed), shape.reduce((a, b) => a * b, 1), 3), shape, { requiresGrad: true })],
      forward: ([x]) => f(x),
      reduction: 1,
    });
  }
}

function softmaxCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 7000 + i;
    const shape = randShape(r);
    const ndim = Math.max(shape.length, 1);
    const axis = randInt(r, -ndim, ndim - 1);
    const log = i % 2 === 1;
    out.push({
      op: log ? 'logSoftmax' : 'softmax', seed, label: `x ${fmt(shape)} axis ${axis}`,
      makeInputs: () => [tensor(randData(rng(seed), shape.reduce((a, b) => a * b, 1), 4), shape, { requiresGrad: true })],
      forward: ([x]) => (log ? logSoftmax(x, axis) : softmax(x, axis)),
      reduction: shape[axis < 0 ? axis + shape.length : axis] ?? 1,
    });
  }
}

function lossAndShapeCases(r: Rand, count: number, out: OpCase[]): void {
  for (let i = 0; i < count; i++) {
    const seed = 8000 + i;
    const n = pick(r, [1, 3, 64]);
    const c = randInt(r, 1, 12);
    const labels = Array.from({ length: n }, () => randInt(r, 0, c - 1));
    out.push({
      op: 'crossEntropy', seed, label: `logits [${n},${c}]`,
      makeInputs: () => [tensor(randData(rng(seed), n * c, 5), [n, c], { requiresGrad: true })],
      forward: ([x]) => crossEntropy(x, labels),
      reduction: c,
    });
  }
  // reshape / flatten composed with a kernel, so the pass-through gradient reaches a backend op.
  for (let i = 0; i < 6; i++) {
    const seed = 8500 + i;
    const shape = [randInt(r, 1, 4), randInt(r, 1, 4), randInt(r, 1, 5), randInt(r, 1, 5)];
    out.push({
      op: i % 2 ? 'flatten' : 'reshape', seed, label: `x ${fmt(shape)}`,
      makeInputs: inputs(seed, [shape]),
      forward: ([x]) => (i % 2 ? sigmoid(flatten(x)) : tanh(reshape(x, [shape[0], -1, shape[3]]))),
      reduction: 1,
    });
  }
}

type Arith = (a: Tensor | number, b: Tensor | number) => Tensor;
const ARITH: Array<[string, Arith]> = [['add', add], ['sub', sub], ['mul', mul], ['div', div]];

/** Random values, or for a divisor values of either sign at least 0.5 from zero. */
function operandData(r: Rand, n: number, divisor: boolean): Float32Array {
  const d = randData(r, n);
  if (divisor) for (let i = 0; i < n; i++) d[i] = Math.sign(d[i] || 1) * (0.5 + Math.abs(d[i]));
  return d;
}

/** A shape broadcast against: some dims of `shape` set to 1, some leading dims dropped. */
function broadcastPartner(r: Rand, shape: number[]): number[] {
  const partner = shape.map((d) => (r() < 0.4 ? 1 : d));
  return partner.slice(randInt(r, 0, Math.min(2, partner.length)));
}

// [a, b] operand shapes, null for a plain number: same shapes, scalars either side, per-channel
// bias, rank 0, zero-size dims, both sides broadcast, and large ones that take the threaded path.
const ARITH_SHAPES: Array<[number[] | null, number[] | null]> = [
  [[2, 3], [2, 3]], [[4, 5], null], [null, [4, 5]], [[2, 3, 4, 5], [3, 1, 1]], [[2, 3, 4, 5], [1, 3, 1, 1]], [[1], [7]],
  [[7], [1]], [[], [3, 2]], [[3, 2], []], [[], []], [[0, 3], [1, 3]], [[2, 0], [2, 1]], [[0], null], [[5, 1, 7], [1, 6, 1]],
  [[3, 1], [1, 4]], [[2, 3, 1, 5], [3, 4, 1]], [[13, 17], [17]], [[13, 17], [13, 1]], [[64, 3, 32, 32], [3, 1, 1]],
  [[70001], null], [[1, 70001], [70001]], [[40000, 2], [1, 2]], [[3, 40000], [3, 1]], [[6, 7, 40, 40], [7, 40, 1]],
];

function arithCases(r: Rand, out: OpCase[]): void {
  let seed = 9000;
  const shapes = [...ARITH_SHAPES];
  for (let i = 0; i < 16; i++) { // random shapes, odd sizes
    const a = Array.from({ length: randInt(r, 1, 5) }, () => randInt(r, 1, 7));
    shapes.push(r() < 0.5 ? [a, broadcastPartner(r, a)] : [broadcastPartner(r, a), a]);
  }
  for (const [aShape, bShape] of shapes) {
    for (const [name, f] of ARITH) {
      const caseSeed = seed++;
      const scalar = pick(r, [-1.5, 0.75, 3]);
      const divisor = name === 'div';
      out.push({
        op: name, seed: caseSeed, label: `a ${fmt(aShape ?? scalar)} b ${fmt(bShape ?? scalar)}`,
        makeInputs: () => {
          const rr = rng(caseSeed);
          return [aShape, bShape].flatMap((s, i) => (s ? [tensor(operandData(rr, s.reduce((p, d) => p * d, 1), divisor && i === 1), s, { requiresGrad: true })] : []));
        },
        forward: (t) => {
          let k = 0;
          const a = aShape ? t[k++] : scalar;
          const b = bShape ? t[k++] : scalar;
          return f(a, b);
        },
        // The longest gradient sum: over the dims an operand was broadcast along.
        reduction: Math.max(1, ...[aShape, bShape].map((s) => {
          const full = [aShape ?? [], bShape ?? []].map((x) => x.reduce((p, d) => p * d, 1));
          return Math.max(...full) / Math.max(1, (s ?? []).reduce((p, d) => p * d, 1));
        })),
      });
    }
  }
}

// [shape, axes, keepDims]: every axis pattern, rank 0, empty sums, and large sums (over the
// innermost dim, across rows, and all of a long vector) that take the threaded paths.
const REDUCE_SHAPES: Array<[number[], number | number[] | undefined, boolean]> = [
  [[3, 4, 5], undefined, false], [[3, 4, 5], 0, false], [[3, 4, 5], 1, true], [[3, 4, 5], 2, false], [[3, 4, 5], [0, 2], true],
  [[3, 4, 5], [-1, 0], false], [[3, 4, 5], [], false], [[2, 3, 4, 5], [0, 2, 3], true], [[2, 3, 4, 5], [1, 3], false],
  [[], undefined, false], [[], 0, true], [[0, 3], 0, false], [[0, 3], 1, true], [[4, 1, 3], 1, false], [[1, 1], undefined, true],
  [[7], 0, false], [[300001], undefined, false], [[64, 3, 32, 32], [0, 2, 3], false], [[2001, 40], 0, false],
  [[3, 50001], 1, true], [[8, 3001, 5], [0, 2], false], [[70001, 3], 0, false], [[5, 300, 70], [1], false],
  [[129, 1000], 0, false], [[2, 5, 3, 7, 2], [0, 2, 4], false],
];

function reduceCases(out: OpCase[]): void {
  let seed = 9800;
  for (const [shape, axes, keepDims] of REDUCE_SHAPES) {
    for (const [name, f] of [['sum', sum], ['mean', mean]] as const) {
      const caseSeed = seed++;
      const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
      const count = list.reduce((p, a) => p * (shape[a < 0 ? a + shape.length : a] ?? 1), 1);
      out.push({
        op: name, seed: caseSeed, label: `x ${fmt(shape)} axes ${fmt(axes)} keepDims ${keepDims}`,
        makeInputs: inputs(caseSeed, [shape]),
        forward: ([x]) => f(x, axes, keepDims),
        reduction: count,
      });
    }
  }
}

function clampCases(r: Rand, count: number, out: OpCase[]): void {
  const bounds: Array<[number | undefined, number | undefined]> = [[0, 6], [-0.5, undefined], [undefined, 0.3], [-1, 1], [1, -1], [0.25, 0.25]];
  for (let i = 0; i < count; i++) {
    const seed = 9900 + i;
    const shape = i === 0 ? [70001] : randShape(r);
    const [lo, hi] = bounds[i % bounds.length];
    out.push({
      op: 'clamp', seed, label: `x ${fmt(shape)} min ${lo} max ${hi}`,
      makeInputs: () => [tensor(randData(rng(seed), shape.reduce((a, b) => a * b, 1), 3), shape, { requiresGrad: true })],
      forward: ([x]) => clamp(x, lo, hi),
      reduction: 1,
    });
  }
}

/** Every permutation of [0, n). */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, at) => [...p.slice(0, at), n - 1, ...p.slice(at)]));
}

function randPermutation(r: Rand, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(r, 0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function layoutCase(op: string, seed: number, label: string, shapes: number[][], forward: (t: Tensor[]) => Tensor): OpCase {
  return { op, seed, label, makeInputs: inputs(seed, shapes), forward, reduction: 1 };
}

/** permute (every permutation of rank 4, ranks 1 to 6, the NHWC and channel-shuffle fast paths, large and batch 1) and transpose. */
function permuteCases(r: Rand, out: OpCase[]): void {
  permutations(4).forEach((perm, i) => {
    // Negative axes for half of them: the same permutation counted from the end.
    const dims = i % 2 ? perm.map((d) => d - 4) : perm;
    out.push(layoutCase('permute', 12000 + i, `x [3,5,2,7] dims ${fmt(dims)}`, [[3, 5, 2, 7]], ([x]) => permute(x, dims)));
  });
  for (let i = 0; i < 12; i++) {
    const shape = Array.from({ length: 1 + (i % 6) }, () => randInt(r, 1, 6));
    const dims = randPermutation(r, shape.length);
    out.push(layoutCase('permute', 12100 + i, `x ${fmt(shape)} dims ${fmt(dims)}`, [shape], ([x]) => permute(x, dims)));
  }
  const fastPaths: Array<[number[], number[]]> = [
    [[64, 16, 9, 11], [0, 2, 3, 1]], // NCHW -> NHWC, threaded
    [[64, 9, 11, 16], [0, 3, 1, 2]], // NHWC -> NCHW
    [[1, 3, 33, 35], [0, 2, 3, 1]], // batch 1
    [[8, 2, 24, 13, 11], [0, 2, 1, 3, 4]], // channel shuffle, groups 2
    [[2, 4, 3, 5, 5], [0, 2, 1, 3, 4]], // channel shuffle, groups 4
    [[300, 517], [1, 0]], // one large plane
  ];
  fastPaths.forEach(([shape, dims], i) => {
    out.push(layoutCase('permute', 12200 + i, `x ${fmt(shape)} dims ${fmt(dims)}`, [shape], ([x]) => permute(x, dims)));
  });
  for (let i = 0; i < 6; i++) {
    const shape = Array.from({ length: 2 + (i % 4) }, () => randInt(r, 1, 7));
    const a = randInt(r, -shape.length, shape.length - 1);
    const b = randInt(r, -shape.length, shape.length - 1);
    out.push(layoutCase('transpose', 12300 + i, `x ${fmt(shape)} dims ${a} ${b}`, [shape], ([x]) => transpose(x, a, b)));
  }
}

/** concat of one piece and of many, with empty pieces, along every axis of ranks 1 to 5, and a large one. */
function concatCases(r: Rand, out: OpCase[]): void {
  for (let i = 0; i < 14; i++) {
    const rank = 1 + (i % 5);
    const base = Array.from({ length: rank }, () => randInt(r, 1, 5));
    const axis = randInt(r, -rank, rank - 1);
    const a = axis < 0 ? axis + rank : axis;
    const count = i % 4 === 0 ? 1 : randInt(r, 2, 6);
    const shapes = Array.from({ length: count }, (_, k) => base.map((d, j) => (j !== a ? d : k === 1 && count > 2 ? 0 : randInt(r, 1, 4))));
    out.push(layoutCase('concat', 12400 + i, `${count} pieces ${fmt(shapes)} axis ${axis}`, shapes, (ts) => concat(ts, axis)));
  }
  const large = [[32, 40, 7, 9], [32, 24, 7, 9], [32, 1, 7, 9]];
  out.push(layoutCase('concat', 12450, `channels ${fmt(large)}`, large, (ts) => concat(ts, 1)));
}

/** split by a chunk size and by sizes (with empty pieces), one piece dropped so that its gradient is zeros. */
function splitCases(r: Rand, out: OpCase[]): void {
  for (let i = 0; i < 12; i++) {
    const rank = 1 + (i % 4);
    const shape = Array.from({ length: rank }, () => randInt(r, 1, 6));
    const a = randInt(r, 0, rank - 1);
    shape[a] = randInt(r, 2, 9);
    let sizes: number | number[];
    if (i % 2) {
      sizes = randInt(r, 1, shape[a]);
    } else {
      sizes = [];
      for (let left = shape[a]; left > 0;) {
        const n = Math.min(left, randInt(r, 0, 4));
        sizes.push(n);
        left -= n;
      }
    }
    const pieceSizes = sizes;
    out.push(layoutCase('split', 12500 + i, `x ${fmt(shape)} sizes ${fmt(sizes)} axis ${a}`, [shape], ([x]) => {
      const pieces = split(x, pieceSizes, a);
      const kept = pieces.length > 1 ? pieces.filter((_, k) => k !== 1) : pieces; // piece 1 gets no gradient
      return concat(kept.map((p, k) => (k % 2 ? tanh(p) : p)), a);
    }));
  }
  out.push(layoutCase('split', 12550, 'x [16,64,9,9] sizes [32,32] axis 1', [[16, 64, 9, 9]], ([x]) => {
    const [left, right] = split(x, [32, 32], 1);
    return concat([right, sigmoid(left)], 1);
  }));
}

const INT64_MAX = 2 ** 63 - 1;
const INT64_MIN = -(2 ** 63);

/** slice with negative bounds and steps, clamped ends and ONNX's INT64 limits. */
function sliceCases(r: Rand, out: OpCase[]): void {
  for (let i = 0; i < 20; i++) {
    const rank = 1 + (i % 4);
    const shape = Array.from({ length: rank }, () => randInt(r, 1, 7));
    const axis = randInt(r, -rank, rank - 1);
    const n = shape[axis < 0 ? axis + rank : axis];
    const step = pick(r, [1, 1, 2, 3, -1, -1, -2, -3]);
    const start = pick(r, [randInt(r, -n - 3, n + 3), step > 0 ? 0 : -1, randInt(r, 0, n - 1)]);
    const end = pick(r, [randInt(r, -n - 3, n + 3), step > 0 ? INT64_MAX : INT64_MIN, n]);
    out.push(layoutCase('slice', 12600 + i, `x ${fmt(shape)} axis ${axis} ${start}:${end}:${step}`, [shape], ([x]) => slice(x, axis, start, end, step)));
  }
  out.push(layoutCase('slice', 12650, 'x [64,32,12,12] axis 1 2:-2:1', [[64, 32, 12, 12]], ([x]) => slice(x, 1, 2, -2)));
  out.push(layoutCase('slice', 12651, 'x [200000] axis 0 ::-3', [[200000]], ([x]) => slice(x, 0, -1, INT64_MIN, -3)));
  out.push(layoutCase('slice', 12652, 'x [1,3,31,29] axis 3 1:28:2', [[1, 3, 31, 29]], ([x]) => slice(x, 3, 1, 28, 2)));
}

/** Every case, in a fixed order (the same on every run). */
export function allCases(): OpCase[] {
  const r = rng(20261122);
  const out: OpCase[] = [];
  convCases(r, 90, out);
  poolCases(r, 36, 'max', out);
  poolCases(r, 36, 'avg', out);
  globalPoolCases(r, 10, out);
  gemmCases(r, 40, out);
  matmulCases(r, 32, out);
  linearCases(r, 10, out);
  activationCases(r, 20, out);
  softmaxCases(r, 20, out);
  lossAndShapeCases(r, 10, out);
  arithCases(r, out);
  reduceCases(out);
  clampCases(r, 12, out);
  permuteCases(r, out);
  concatCases(r, out);
  splitCases(r, out);
  sliceCases(r, out);
  return out;
}

/** Tolerance for comparing two float32 backends on a case. */
export function caseTolerance(c: OpCase): number {
  return 1e-4 * Math.max(1, Math.sqrt(c.reduction) / 16);
}
