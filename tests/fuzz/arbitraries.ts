// fast-check arbitraries for the fuzzer: shapes, conv/pool options, tensor specs and bad values.
// Everything generated is plain data (numbers, strings, arrays, tagged objects), so a case can
// be logged, printed and pasted into regressions.ts; tensors are made from a spec at run time
// (see materialize.ts). Sizes stay small so each case runs in about a millisecond.
import fc from 'fast-check';

/**
 * A dimension in [0, max]: empty sizes are generated too, and every backend must agree on them
 * (a batch of 0 runs; no channels, rows or columns is a RangeError, as in PyTorch).
 */
export const dim = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max });

/** The data of a tensor: a seed for tests/helpers' rng and a scale (normal values times scale). */
export interface DataSpec {
  seed: number;
  scale: number;
}

export const dataSpec: fc.Arbitrary<DataSpec> = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  scale: fc.constantFrom(0.1, 1, 1, 1, 4),
});

/** A shape of rank in [minRank, maxRank], each dimension in [0, maxDim]. */
export const shape = (minRank: number, maxRank: number, maxDim = 6): fc.Arbitrary<number[]> =>
  fc.array(dim(maxDim), { minLength: minRank, maxLength: maxRank });

/** A number or [h, w] (both forms the ops accept), each in [min, max]. */
export const pair = (min: number, max: number): fc.Arbitrary<number | [number, number]> =>
  fc.oneof(fc.integer({ min, max }), fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })));

export type PaddingValue = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

/** Every padding form: number, [ph, pw], [top, left, bottom, right], 'same', 'valid'. */
export const padding = (max: number): fc.Arbitrary<PaddingValue> => {
  const p = fc.integer({ min: 0, max });
  return fc.oneof(p, fc.tuple(p, p), fc.tuple(p, p, p, p), fc.constant('same' as const), fc.constant('valid' as const));
};

export const asPair = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** [top, left, bottom, right] of an explicit padding ('same' gives null: it is resolved from the input). */
export function explicitPads(p: PaddingValue | undefined): [number, number, number, number] | null {
  if (p === undefined || p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') return null;
  if (typeof p === 'number') return [p, p, p, p];
  return p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
}

/** Leaves a key out now and then, so defaults are exercised too. */
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---- valid op calls --------------------------------------------------------------------------

export interface ConvCase {
  op: 'conv2d';
  x: number[];
  w: number[];
  bias: boolean;
  opts: { stride?: number | [number, number]; padding?: PaddingValue; dilation?: number | [number, number]; groups?: number };
  data: DataSpec;
}

/** A conv2d call whose kernel nearly always fits the padded input (sizes chosen from the kernel). */
export const convCase: fc.Arbitrary<ConvCase> = fc.record({
  groups: fc.constantFrom(1, 1, 1, 2, 3),
  cinPerGroup: dim(3),
  coutPerGroup: fc.integer({ min: 1, max: 3 }),
  n: dim(3),
  kernel: pair(1, 4),
  stride: maybe(pair(1, 3)),
  dilation: maybe(pair(1, 3)),
  padding: maybe(padding(3)),
  extraH: fc.integer({ min: 0, max: 7 }),
  extraW: fc.integer({ min: 0, max: 7 }),
  emptyH: fc.boolean(),
  bias: fc.boolean(),
  groupsKey: fc.boolean(),
  data: dataSpec,
}).map((r) => {
  const [kh, kw] = asPair(r.kernel);
  const [dh, dw] = asPair(r.dilation ?? 1);
  const pads = explicitPads(r.padding) ?? [0, 0, 0, 0];
  // The smallest input the (dilated) kernel fits, plus some.
  const h = Math.max(1, dh * (kh - 1) + 1 - pads[0] - pads[2]) + r.extraH;
  const w = Math.max(1, dw * (kw - 1) + 1 - pads[1] - pads[3]) + r.extraW;
  return {
    op: 'conv2d' as const,
    x: [r.n, r.groups * r.cinPerGroup, r.emptyH ? 0 : h, w],
    w: [r.groups * r.coutPerGroup, r.cinPerGroup, kh, kw],
    bias: r.bias,
    opts: dropUndefined({ stride: r.stride, padding: r.padding, dilation: r.dilation, groups: r.groups === 1 && !r.groupsKey ? undefined : r.groups }),
    data: r.data,
  };
});

export interface PoolCase {
  op: 'maxPool2d' | 'avgPool2d';
  x: number[];
  kernel: number | [number, number];
  opts: { stride?: number | [number, number]; padding?: PaddingValue; dilation?: number | [number, number]; ceilMode?: boolean; countIncludePad?: boolean };
  data: DataSpec;
}

/** Explicit pads limited to half the kernel (the ops' rule), or 'same' / 'valid'. */
const poolPadding = (kh: number, kw: number): fc.Arbitrary<PaddingValue> => {
  const ph = fc.integer({ min: 0, max: kh >> 1 });
  const pw = fc.integer({ min: 0, max: kw >> 1 });
  return fc.oneof(fc.integer({ min: 0, max: Math.min(kh, kw) >> 1 }), fc.tuple(ph, pw), fc.tuple(ph, pw, ph, pw),
    fc.constant('same' as const), fc.constant('valid' as const));
};

export const poolCase: fc.Arbitrary<PoolCase> = fc.record({
  op: fc.constantFrom('maxPool2d' as const, 'avgPool2d' as const),
  kernel: pair(1, 4),
  n: dim(3),
  c: dim(3),
  extraH: fc.integer({ min: 0, max: 7 }),
  extraW: fc.integer({ min: 0, max: 7 }),
  stride: maybe(pair(1, 3)),
  dilation: maybe(pair(1, 2)),
  ceilMode: maybe(fc.boolean()),
  countIncludePad: maybe(fc.boolean()),
  data: dataSpec,
}).chain((r) => {
  const [kh, kw] = asPair(r.kernel);
  return maybe(poolPadding(kh, kw)).map((pad) => {
    const isMax = r.op === 'maxPool2d';
    const [dh, dw] = isMax ? asPair(r.dilation ?? 1) : [1, 1];
    const pads = explicitPads(pad) ?? [0, 0, 0, 0];
    const h = Math.max(1, dh * (kh - 1) + 1 - pads[0] - pads[2]) + r.extraH;
    const w = Math.max(1, dw * (kw - 1) + 1 - pads[1] - pads[3]) + r.extraW;
    return {
      op: r.op,
      x: [r.n, r.c, h, w],
      kernel: r.kernel,
      opts: dropUndefined({
        stride: r.stride, padding: pad, ceilMode: r.ceilMode,
        dilation: isMax ? r.dilation : undefined,
        countIncludePad: isMax ? undefined : r.countIncludePad,
      }),
      data: r.data,
    };
  });
});

export interface GlobalPoolCase { op: 'globalMaxPool2d' | 'globalAvgPool2d'; x: number[]; data: DataSpec }

export const globalPoolCase: fc.Arbitrary<GlobalPoolCase> = fc.record({
  op: fc.constantFrom('globalMaxPool2d' as const, 'globalAvgPool2d' as const),
  x: fc.tuple(dim(3), dim(4), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
  data: dataSpec,
});

export interface GemmCase {
  op: 'gemm';
  a: number[];
  b: number[];
  c: number[] | null;
  opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number };
  data: DataSpec;
}

export const gemmCase: fc.Arbitrary<GemmCase> = fc.record({
  m: dim(9), n: dim(9), k: dim(40),
  transA: maybe(fc.boolean()), transB: maybe(fc.boolean()),
  alpha: maybe(fc.constantFrom(1, 0.5, -2, 0)), beta: maybe(fc.constantFrom(1, 0.25, 0, -1)),
  cForm: fc.constantFrom('none', 'scalar', '1', 'n', '1n', 'm1', 'mn'),
  data: dataSpec,
}).map((r) => {
  const cShapes: Record<string, number[] | null> = { none: null, scalar: [], 1: [1], n: [r.n], '1n': [1, r.n], m1: [r.m, 1], mn: [r.m, r.n] };
  return {
    op: 'gemm' as const,
    a: r.transA ? [r.k, r.m] : [r.m, r.k],
    b: r.transB ? [r.n, r.k] : [r.k, r.n],
    c: cShapes[r.cForm],
    opts: dropUndefined({ transA: r.transA, transB: r.transB, alpha: r.alpha, beta: r.beta }),
    data: r.data,
  };
});

export interface LinearCase { op: 'linear'; x: number[]; w: number[]; bias: boolean; data: DataSpec }

export const linearCase: fc.Arbitrary<LinearCase> = fc.record({
  n: dim(8), fin: dim(64), fout: fc.integer({ min: 1, max: 16 }), bias: fc.boolean(), data: dataSpec,
}).map((r) => ({ op: 'linear' as const, x: [r.n, r.fin], w: [r.fout, r.fin], bias: r.bias, data: r.data }));

export interface MatmulCase { op: 'matmul'; a: number[]; b: number[]; data: DataSpec }

/** 1-d, 2-d and batched operands, with batch dimensions that broadcast (1 against b). */
export const matmulCase: fc.Arbitrary<MatmulCase> = fc.record({
  m: dim(6), k: dim(12), n: dim(6),
  aRank: fc.integer({ min: 1, max: 4 }), bRank: fc.integer({ min: 1, max: 4 }),
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
  ones: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  data: dataSpec,
}).map((r) => {
  // Each operand's batch dims are a suffix of `batch`, some of them replaced by 1 (broadcast).
  const batchDims = (rank: number, side: number) => {
    const dims = r.batch.slice(r.batch.length - Math.max(0, rank - 2));
    return dims.map((d, i) => (r.ones[side * 2 + i] ? 1 : d));
  };
  const a = r.aRank === 1 ? [r.k] : [...batchDims(r.aRank, 0), r.m, r.k];
  const b = r.bRank === 1 ? [r.k] : [...batchDims(r.bRank, 1), r.k, r.n];
  return { op: 'matmul' as const, a, b, data: r.data };
});

export type ActivationOp = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax' | 'logSoftmax';

export interface ActivationCase { op: ActivationOp; x: number[]; slope?: number; axis?: number; data: DataSpec }

export const activationCase: fc.Arbitrary<ActivationCase> = fc.record({
  op: fc.constantFrom<ActivationOp>('relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax', 'logSoftmax'),
  x: shape(0, 4),
  slope: maybe(fc.constantFrom(0, 0.01, 0.2, -1, 3)),
  axisPick: fc.integer({ min: -8, max: 8 }),
  data: dataSpec,
}).map((r) => {
  const ndim = Math.max(1, r.x.length);
  const softmaxLike = r.op === 'softmax' || r.op === 'logSoftmax';
  return dropUndefined({
    op: r.op, x: r.x, data: r.data,
    slope: r.op === 'leakyRelu' ? r.slope : undefined,
    axis: softmaxLike ? (((r.axisPick % (2 * ndim)) + 2 * ndim) % (2 * ndim)) - ndim : undefined, // in [-ndim, ndim)
  });
});

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossCase {
  op: 'crossEntropy' | 'crossEntropyProbs' | 'nllLoss' | 'mseLoss' | 'bceWithLogits';
  x: number[];
  labels: number[];
  reduction?: Reduction;
  labelSmoothing?: number;
  posWeight: boolean;
  data: DataSpec;
}

export const lossCase: fc.Arbitrary<LossCase> = fc.record({
  op: fc.constantFrom('crossEntropy' as const, 'crossEntropyProbs' as const, 'nllLoss' as const, 'mseLoss' as const, 'bceWithLogits' as const),
  n: fc.integer({ min: 1, max: 8 }),
  c: fc.integer({ min: 1, max: 10 }),
  extra: shape(0, 2, 3),
  reduction: maybe(fc.constantFrom<Reduction>('mean', 'sum', 'none')),
  labelSmoothing: maybe(fc.constantFrom(0, 0.1, 0.5, 1)),
  posWeight: fc.boolean(),
  labelSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  data: dataSpec,
}).map((r) => {
  const elementwise = r.op === 'mseLoss' || r.op === 'bceWithLogits';
  const labels = Array.from({ length: r.n }, (_, i) => (r.labelSeed + i * 7919) % r.c);
  return dropUndefined({
    op: r.op,
    x: elementwise ? [r.n, ...r.extra, r.c] : [r.n, r.c],
    labels: elementwise ? [] : labels,
    reduction: r.reduction,
    labelSmoothing: r.op === 'crossEntropy' || r.op === 'crossEntropyProbs' ? r.labelSmoothing : undefined,
    posWeight: r.op === 'bceWithLogits' && r.posWeight,
    data: r.data,
  });
});

export type ArithOp = 'add' | 'sub' | 'mul' | 'div';

/** a op b, each a shape (a tensor) or null (the number `scalar`), never both null. */
export interface ArithCase { op: ArithOp; a: number[] | null; b: number[] | null; scalar: number; data: DataSpec }

export const arithCase: fc.Arbitrary<ArithCase> = fc.record({
  op: fc.constantFrom<ArithOp>('add', 'sub', 'mul', 'div'),
  out: shape(0, 4),
  // Per operand: how many leading dims it drops, which dims it has as 1, or a plain number.
  aDrop: fc.integer({ min: 0, max: 4 }), bDrop: fc.integer({ min: 0, max: 4 }),
  aOnes: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), bOnes: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  number: fc.constantFrom<'a' | 'b' | null>(null, null, null, 'a', 'b'),
  scalar: fc.constantFrom(-2, -0.5, 0, 1, 3),
  data: dataSpec,
}).map((r) => {
  const operand = (drop: number, ones: boolean[]) => r.out.slice(Math.min(drop, r.out.length)).map((d, i) => (ones[i] ? 1 : d));
  return {
    op: r.op, scalar: r.scalar, data: r.data,
    a: r.number === 'a' ? null : operand(r.aDrop, r.aOnes),
    b: r.number === 'b' ? null : operand(r.bDrop, r.bOnes),
  };
});

/** sum or mean of x over axes (undefined: all) and keepDims. */
export interface ReduceCase { op: 'sum' | 'mean'; x: number[]; axes?: number | number[]; keepDims?: boolean; data: DataSpec }

export const reduceCase: fc.Arbitrary<ReduceCase> = fc.record({
  op: fc.constantFrom('sum' as const, 'mean' as const),
  x: shape(0, 4),
  picks: fc.array(fc.integer({ min: -8, max: 8 }), { maxLength: 4 }),
  form: fc.constantFrom('all', 'one', 'list'),
  keepDims: maybe(fc.boolean()),
  data: dataSpec,
}).map((r) => {
  const ndim = Math.max(1, r.x.length);
  const inRange = [...new Set(r.picks.map((p) => (((p % (2 * ndim)) + 2 * ndim) % (2 * ndim)) - ndim))]; // in [-ndim, ndim)
  const distinct = inRange.filter((a, i) => inRange.findIndex((b) => (b + ndim) % ndim === (a + ndim) % ndim) === i);
  const axes = r.form === 'all' ? undefined : r.form === 'one' ? distinct[0] ?? 0 : distinct;
  return dropUndefined({ op: r.op, x: r.x, axes, keepDims: r.keepDims, data: r.data });
});

/** clamp(x, min, max), either bound possibly left out (not both). */
export interface ClampCase { op: 'clamp'; x: number[]; min?: number; max?: number; data: DataSpec }

export const clampCase: fc.Arbitrary<ClampCase> = fc.record({
  x: shape(0, 4),
  min: maybe(fc.constantFrom(-1, 0, 0.5, -Infinity)),
  max: maybe(fc.constantFrom(-0.5, 0, 1, 6, Infinity)),
  data: dataSpec,
}).map((r) => dropUndefined({ op: 'clamp' as const, x: r.x, min: r.min ?? (r.max === undefined ? 0 : undefined), max: r.max, data: r.data }));

export type OpCase = ConvCase | PoolCase | GlobalPoolCase | GemmCase | LinearCase | MatmulCase | ActivationCase | LossCase
  | ArithCase | ReduceCase | ClampCase;

/** Any valid op call, conv and pools weighted up (the most geometry to get wrong). */
export const opCase: fc.Arbitrary<OpCase> = fc.oneof(
  { arbitrary: convCase, weight: 4 },
  { arbitrary: poolCase, weight: 3 },
  { arbitrary: globalPoolCase, weight: 1 },
  { arbitrary: gemmCase, weight: 2 },
  { arbitrary: linearCase, weight: 1 },
  { arbitrary: matmulCase, weight: 2 },
  { arbitrary: activationCase, weight: 2 },
  { arbitrary: lossCase, weight: 2 },
  { arbitrary: arithCase, weight: 2 },
  { arbitrary: reduceCase, weight: 1 },
  { arbitrary: clampCase, weight: 1 },
);

// ---- bad values ------------------------------------------------------------------------------

/** A tensor that cannot be used: disposed, or its ArrayBuffer detached (made at run time). */
export interface BadTensor { badTensor: 'disposed' | 'detached' | 'rank'; shape: number[] }

const isBadTensor = (v: unknown): v is BadTensor => typeof v === 'object' && v !== null && 'badTensor' in v;
export { isBadTensor };

/** Values of the wrong type for any number / boolean / tensor argument. */
export const wrongType: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  '2', '', 'abc', true, {}, { length: 4 }, { 0: 1, length: 1 }, [], [1, 2, 3], [[1]], () => 1, Symbol('s'), 10n,
  new Float32Array(2), new Map(),
);

/** Numbers no integer argument (>= 0 or >= 1) accepts, and some that overflow int32 sizes. */
export const badInt: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(-1, -(2 ** 31), 1.5, 0.5, -0.5, NaN, Infinity, -Infinity, 2 ** 52 - 0.5),
  fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
  fc.integer({ min: -1000, max: -1 }),
);

/** Too large for the int32 sizes the kernels take (accepted as integers, so RangeError later). */
export const hugeInt: fc.Arbitrary<number> = fc.constantFrom(2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 40, Number.MAX_VALUE);

/** For positive-integer arguments (stride, dilation, groups, kernel): 0 is bad too. */
export const badPositive: fc.Arbitrary<unknown> = fc.oneof(fc.constant(0), badInt, hugeInt, wrongType,
  fc.tuple(badInt, fc.constant(1)), fc.tuple(fc.constant(1), fc.oneof(badInt, fc.constant(0), wrongType)));

export const badPadding: fc.Arbitrary<unknown> = fc.oneof(badInt, hugeInt, wrongType,
  fc.constantFrom<unknown>('full', 'SAME', 'Valid', ' same', [1, -1], [0, NaN], [0, 0, 0, -1], [1, 1, 1], [0, 0, 0, 0, 0], [0, '1'], { 0: 1, 1: 1, length: 2 }),
  fc.tuple(fc.constant(0), fc.constant(0), fc.constant(0), fc.oneof(badInt, hugeInt)));

export const badBoolean: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(0, 1, 'true', 'false', '', null, NaN, {}, [], [true]);

export const badFinite: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(NaN, Infinity, -Infinity, '1', '', true, {}, [1], { valueOf: () => 1 }, 10n);

/**
 * A bad tensor argument: not a tensor at all, disposed or detached (of the right shape), or, for
 * arguments of a fixed rank (fixedRank), one with three extra dimensions of 1.
 */
export const badTensor = (shapeOf: number[], fixedRank: boolean): fc.Arbitrary<unknown> => fc.oneof(
  fc.constantFrom<unknown>(null, undefined, 3, 'x', [1, 2], { length: 4 }, { shape: shapeOf, data: new Float32Array(1) }, new Float32Array(4)),
  fc.constant<BadTensor>({ badTensor: 'disposed', shape: shapeOf }),
  // A tensor of 0 elements loses nothing when its buffer goes, so it is a valid empty tensor.
  ...(shapeOf.every((d) => d > 0) ? [fc.constant<BadTensor>({ badTensor: 'detached', shape: shapeOf })] : []),
  ...(fixedRank ? [fc.constant<BadTensor>({ badTensor: 'rank', shape: shapeOf })] : []),
);

/** Options that are not an options object, or carry a key the op does not know. */
export const badOptions: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(3, 'x', true, [], [1], { strides: 2 }, { padding: 0, Padding: 1 }, { __proto__: null, pad: 1 });
