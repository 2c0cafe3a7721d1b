// Invalid calls: a valid call with one argument (or one option) replaced by a value that
// argument never accepts. Every such call must throw TypeError or RangeError.
import fc from 'fast-check';
import * as ops from '../../lib/index.js';
import { argmax, concat, flatten, nn, permute, reshape, slice, split, tensor } from '../../lib/index.js';
import {
  activationCase, arithCase, badBoolean, badFinite, badInt, badOptions, badPadding, badPositive, badTensor, clampCase, convCase, gemmCase,
  hugeInt, isBadTensor, linearCase, lossCase, matmulCase, poolCase, reduceCase, wrongType, type OpCase,
} from './arbitraries.js';
import { badTensorValue, makeTensors } from './calls.js';

/** Which argument to replace: args[arg], or the key of the options object at args[arg]. */
export interface BadCall {
  base: OpCase | PlainCall;
  arg: number;
  key?: string;
  value: unknown;
  /** Call the async form (conv2dAsync, ...) where there is one: it must reject the same way. */
  async: boolean;
}

/** Calls whose valid arguments are plain data: tensor(), reshape, flatten, the layers' constructors. */
export interface PlainCall {
  op: 'tensor' | 'reshape' | 'flatten' | 'Linear' | 'Conv2d' | 'BatchNorm2d' | 'MaxPool2d' | 'Dropout'
    | 'permute' | 'slice' | 'split' | 'argmax' | 'concat';
  args: unknown[];
}

const notNullish = (a: fc.Arbitrary<unknown>) => a.filter((v) => v !== null && v !== undefined);

/** A shape entry no tensor accepts, or a shape of more than 2^31 - 1 elements. */
const badShape: fc.Arbitrary<unknown> = fc.oneof(wrongType.filter((v) => !Array.isArray(v) || v.length > 0),
  fc.array(fc.oneof(badInt, fc.constantFrom<unknown>('2', null, undefined, [2])), { minLength: 1, maxLength: 3 }),
  fc.constantFrom<unknown>([2 ** 31, 1], [65536, 65536], [1e6, 1e6, 1e6], [2 ** 53], [3, 2 ** 40, 0.5]));

const badAxis = (ndim: number): fc.Arbitrary<unknown> => fc.oneof(badFinite, fc.constantFrom<unknown>(null, 0.5, ndim, -ndim - 1, 2 ** 53, -(2 ** 31)));

const badLabels = (n: number, c: number): fc.Arbitrary<unknown> => fc.oneof(
  fc.constantFrom<unknown>(null, undefined, 3, 'abc', {}, { length: n }, { length: -1 }, Array(n + 1).fill(0), Array(n > 1 ? n - 1 : 2).fill(0)),
  fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.oneof(badInt, fc.constantFrom<unknown>(c, c + 1, 2 ** 31, 2 ** 53, '0', null))).map(([i, v]) => {
    const labels: unknown[] = Array(n).fill(0);
    labels[i] = v;
    return labels;
  }),
);

/** Arrays and typed arrays are class labels to crossEntropy, possibly valid ones: not a bad probability tensor. */
const notLabels = (a: fc.Arbitrary<unknown>) => a.filter((v) => !Array.isArray(v) && !ArrayBuffer.isView(v));

const badReduction: fc.Arbitrary<unknown> = fc.constantFrom<unknown>('avg', '', 'MEAN', 'mean ', 3, null, true, {}, ['sum']);

/** The op's valid call as a slot list; which arguments can be made bad, and with what. */
/** A bad operand of add/sub/mul/div: a number is a valid one. */
const badOperand = (shapeOf: number[]) => badTensor(shapeOf, false).filter((v) => typeof v !== 'number');

/** A bad clamp bound: not a number, null or undefined, or NaN. */
const badBound: fc.Arbitrary<unknown> = fc.oneof(wrongType, fc.constant(NaN));

function slots(base: OpCase): Array<{ arg: number; key?: string; bad: fc.Arbitrary<unknown>; hasAsync?: boolean }> {
  switch (base.op) {
    case 'add': case 'sub': case 'mul': case 'div': return [{ arg: 0, bad: badOperand(base.a ?? [2]) }, { arg: 1, bad: badOperand(base.b ?? [2]) }];
    case 'sum': case 'mean': return [
      { arg: 0, bad: badTensor(base.x, false) }, { arg: 1, bad: badAxis(Math.max(1, base.x.length)).filter((v) => !Array.isArray(v) && v !== undefined) },
      { arg: 2, bad: badBoolean },
    ];
    case 'clamp': return [{ arg: 0, bad: badTensor(base.x, false) }, { arg: 1, bad: badBound }, { arg: 2, bad: badBound }];
    case 'conv2d': return [
      { arg: 0, bad: badTensor(base.x, true), hasAsync: true }, { arg: 1, bad: badTensor(base.w, true), hasAsync: true },
      { arg: 2, bad: notNullish(badTensor([base.w[0]], true)), hasAsync: true }, { arg: 3, bad: badOptions, hasAsync: true },
      { arg: 3, key: 'stride', bad: badPositive, hasAsync: true }, { arg: 3, key: 'padding', bad: badPadding, hasAsync: true },
      { arg: 3, key: 'dilation', bad: badPositive, hasAsync: true }, { arg: 3, key: 'groups', bad: badPositive, hasAsync: true },
    ];
    case 'maxPool2d':
    case 'avgPool2d': {
      const isMax = base.op === 'maxPool2d';
      return [
        { arg: 0, bad: badTensor(base.x, true), hasAsync: isMax }, { arg: 1, bad: badPositive, hasAsync: isMax },
        { arg: 2, bad: fc.oneof(badOptions, fc.constant(isMax ? { countIncludePad: true } : { dilation: 1 })), hasAsync: isMax },
        { arg: 2, key: 'stride', bad: badPositive, hasAsync: isMax }, { arg: 2, key: 'padding', bad: badPadding, hasAsync: isMax },
        { arg: 2, key: 'ceilMode', bad: badBoolean, hasAsync: isMax },
        isMax ? { arg: 2, key: 'dilation', bad: badPositive, hasAsync: true } : { arg: 2, key: 'countIncludePad', bad: badBoolean },
      ];
    }
    case 'gemm': return [
      { arg: 0, bad: badTensor(base.a, true), hasAsync: true }, { arg: 1, bad: badTensor(base.b, true), hasAsync: true },
      { arg: 2, bad: notNullish(badTensor(base.c ?? [1], true)), hasAsync: true }, { arg: 3, bad: badOptions, hasAsync: true },
      { arg: 3, key: 'transA', bad: badBoolean, hasAsync: true }, { arg: 3, key: 'transB', bad: badBoolean, hasAsync: true },
      { arg: 3, key: 'alpha', bad: badFinite, hasAsync: true }, { arg: 3, key: 'beta', bad: badFinite, hasAsync: true },
    ];
    case 'linear': return [
      { arg: 0, bad: badTensor(base.x, true) }, { arg: 1, bad: badTensor(base.w, true) }, { arg: 2, bad: notNullish(badTensor([base.w[0]], true)) },
    ];
    case 'matmul': return [{ arg: 0, bad: badTensor(base.a, false), hasAsync: true }, { arg: 1, bad: badTensor(base.b, false), hasAsync: true }];
    case 'relu': case 'sigmoid': case 'tanh': return [{ arg: 0, bad: badTensor(base.x, false) }];
    case 'leakyRelu': return [{ arg: 0, bad: badTensor(base.x, false) }, { arg: 1, bad: badFinite }];
    case 'softmax': case 'logSoftmax': return [{ arg: 0, bad: badTensor(base.x, false) }, { arg: 1, bad: badAxis(Math.max(1, base.x.length)) }];
    case 'globalMaxPool2d': case 'globalAvgPool2d': return [{ arg: 0, bad: badTensor(base.x, true) }];
    case 'crossEntropy': case 'crossEntropyProbs': case 'nllLoss': return [
      { arg: 0, bad: badTensor(base.x, true) }, { arg: 1, bad: base.op === 'crossEntropyProbs' ? notLabels(badTensor(base.x, true)) : badLabels(base.x[0], base.x[1]) },
      { arg: 2, bad: badOptions }, { arg: 2, key: 'reduction', bad: badReduction },
      ...(base.op === 'nllLoss' ? [] : [{ arg: 2, key: 'labelSmoothing', bad: fc.oneof(badFinite, fc.constantFrom<unknown>(-0.1, 1.5, -Infinity)) }]),
    ];
    case 'mseLoss': case 'bceWithLogits': return [
      { arg: 0, bad: badTensor(base.x, true) }, { arg: 1, bad: badTensor(base.x, true) },
      { arg: 2, bad: badOptions }, { arg: 2, key: 'reduction', bad: badReduction },
      ...(base.op === 'bceWithLogits' ? [{ arg: 2, key: 'posWeight', bad: notNullish(badTensor([base.x[base.x.length - 1]], true)) }] : []),
    ];
  }
}

const opBadCall: fc.Arbitrary<BadCall> = fc.oneof(convCase, poolCase, gemmCase, linearCase, matmulCase, activationCase, lossCase, arithCase, reduceCase, clampCase)
  .chain((base) => fc.constantFrom(...slots(base)).chain((s) =>
    fc.record({ value: s.bad, async: s.hasAsync ? fc.boolean() : fc.constant(false) })
      .map(({ value, async }): BadCall => ({ base, arg: s.arg, key: s.key, value, async }))));

const count = fc.integer({ min: 1, max: 4 });

/** tensor(), reshape, flatten and the layers' constructors, one argument bad. */
const plainBadCall: fc.Arbitrary<BadCall> = fc.oneof(
  fc.record({ arg: fc.constant(0), value: fc.oneof(wrongType.filter((v) => !ArrayBuffer.isView(v) && !Array.isArray(v)), fc.constantFrom<unknown>(null, undefined, [1, 'x', 3, 4], [[1, 2], [3, 4]], { length: 4 }, { length: 2 ** 53 }, [1, 2, 3])) }).map((r) => ({ ...r, base: { op: 'tensor' as const, args: [[1, 2, 3, 4], [2, 2], {}] }, async: false })),
  fc.record({ arg: fc.constant(1), value: badShape }).map((r) => ({ ...r, base: { op: 'tensor' as const, args: [[1, 2, 3, 4], [2, 2], {}] }, async: false })),
  fc.record({ arg: fc.constant(2), value: fc.oneof(badOptions, fc.constantFrom<unknown>(null, { requiresGrad: 1 }, { device: 'gpu' }, { device: 3 })) }).map((r) => ({ ...r, base: { op: 'tensor' as const, args: [[1, 2, 3, 4], [2, 2], {}] }, async: false })),
  // One -1 is reshape's inferred size, so not a bad entry there.
  fc.record({ arg: fc.constant(1), value: fc.oneof(badShape.filter((v) => !Array.isArray(v) || !v.includes(-1)), fc.constantFrom<unknown>([3], [-1, -1], [5, -1], [-2, 2], [2, 2, 2])) }).map((r) => ({ ...r, base: { op: 'reshape' as const, args: [[2, 2], [4]] }, async: false })),
  fc.record({ arg: fc.constant(1), value: fc.oneof(badAxis(2), fc.constant(2)) }).map((r) => ({ ...r, base: { op: 'flatten' as const, args: [[2, 2], 1] }, async: false })),
  // A huge size is bad only where it sizes a parameter (more than 2^31 - 1 elements): not for options checked by type.
  fc.record({ arg: fc.integer({ min: 0, max: 2 }), value: fc.oneof(badInt, fc.constant(0), wrongType.filter((v) => typeof v !== 'boolean')), i: count, o: count })
    .map((r) => ({ base: { op: 'Linear' as const, args: [r.i, r.o, {}] }, arg: r.arg, value: r.arg === 2 ? { bias: r.value } : r.value, async: false })),
  fc.record({ arg: fc.integer({ min: 0, max: 1 }), value: hugeInt, i: count, o: count })
    .map((r) => ({ base: { op: 'Linear' as const, args: [r.i, r.o, {}] }, arg: r.arg, value: r.value, async: false })),
  fc.record({ arg: fc.integer({ min: 0, max: 3 }), value: fc.oneof(badInt, fc.constant(0), wrongType), i: count, o: count })
    .map((r) => ({ base: { op: 'Conv2d' as const, args: [r.i, r.o, 3, {}] }, arg: r.arg, value: r.arg === 3 ? { stride: r.value } : r.value, async: false })),
  fc.record({ arg: fc.constant(0), value: fc.oneof(badInt, fc.constant(0), wrongType), n: count })
    .map((r) => ({ base: { op: 'BatchNorm2d' as const, args: [r.n, {}] }, arg: r.arg, value: r.value, async: false })),
  fc.record({ arg: fc.constant(1), value: fc.oneof(badFinite, fc.constantFrom<unknown>(0, -1e-5)), n: count })
    .map((r) => ({ base: { op: 'BatchNorm2d' as const, args: [r.n, {}] }, arg: r.arg, value: { eps: r.value }, async: false })),
  fc.record({ arg: fc.constant(0), value: fc.oneof(badInt, fc.constant(0), wrongType) })
    .map((r) => ({ base: { op: 'MaxPool2d' as const, args: [2, {}] }, arg: r.arg, value: r.value, async: false })),
  // Not padding 2 (more than half the kernel): the layer checks that only at forward, against the input.
  fc.record({ arg: fc.constant(1), value: fc.oneof(badInt, wrongType) })
    .map((r) => ({ base: { op: 'MaxPool2d' as const, args: [2, {}] }, arg: r.arg, value: { padding: r.value }, async: false })),
  fc.record({ arg: fc.constant(0), value: fc.oneof(badFinite, fc.constantFrom<unknown>(-0.1, 1.5, 2)) })
    .map((r) => ({ base: { op: 'Dropout' as const, args: [0.5] }, arg: r.arg, value: r.value, async: false })),
);

/** A slice bound no slice accepts: not an integer (a bigint is one, and so is +-Infinity for a bound). */
const badSliceBound: fc.Arbitrary<unknown> = fc.oneof(badFinite.filter((v) => typeof v !== 'bigint' && (typeof v !== 'number' || Number.isNaN(v))),
  fc.constantFrom<unknown>(0.5, -1.5, null, undefined, 'x', [1]));

/** The layout ops and argmax on a [2, 3] tensor (concat on two), one argument bad. */
const layoutBadCall: fc.Arbitrary<BadCall> = fc.oneof(
  fc.record({ arg: fc.constant(1), value: fc.oneof(wrongType.filter((v) => !Array.isArray(v)), fc.constantFrom<unknown>(null, undefined, [], [0], [0, 0], [0, 2], [1, -3], [0, 0.5], [0, '1'], [0, 1, 2], [1, NaN])) })
    .map((r) => ({ ...r, base: { op: 'permute' as const, args: [[2, 3], [1, 0]] }, async: false })),
  fc.record({ arg: fc.constantFrom(1, 2, 3, 4), axis: badAxis(2), bound: badSliceBound, step: fc.constantFrom<unknown>(0, 0.5, NaN, Infinity, -Infinity, '1', null, {}, 0n) })
    .map((r) => ({ base: { op: 'slice' as const, args: [[2, 3], 1, 0, 2, 1] }, arg: r.arg, value: r.arg === 1 ? r.axis : r.arg === 4 ? r.step : r.bound, async: false })),
  fc.record({ arg: fc.constant(1), value: fc.constantFrom<unknown>(0, -1, 0.5, NaN, Infinity, '2', null, undefined, {}, [], [1, 1], [4, -1], [1.5, 1.5], [3, 'x'], [2, 2], 10n) })
    .map((r) => ({ ...r, base: { op: 'split' as const, args: [[2, 3], 2, 1] }, async: false })),
  fc.record({ arg: fc.constant(2), value: badAxis(2) }).map((r) => ({ ...r, base: { op: 'split' as const, args: [[2, 3], 2, 1] }, async: false })),
  fc.record({ arg: fc.constant(1), value: badAxis(2) }).map((r) => ({ ...r, base: { op: 'argmax' as const, args: [[2, 3], 1, false] }, async: false })),
  fc.record({ arg: fc.constant(2), value: fc.constantFrom<unknown>(1, 0, 'yes', null, {}, []) }).map((r) => ({ ...r, base: { op: 'argmax' as const, args: [[2, 3], 1, false] }, async: false })),
  fc.record({ arg: fc.constant(0), value: fc.constantFrom<unknown>(null, undefined, {}, [], 'x', [null], [1, 2], new Float32Array(6)) })
    .map((r) => ({ ...r, base: { op: 'concat' as const, args: [[[2, 3], [2, 3]], 0] }, async: false })),
  fc.record({ arg: fc.constant(1), value: badAxis(2) }).map((r) => ({ ...r, base: { op: 'concat' as const, args: [[[2, 3], [2, 3]], 0] }, async: false })),
);

export const badCall: fc.Arbitrary<BadCall> = fc.oneof({ arbitrary: opBadCall, weight: 4 }, { arbitrary: plainBadCall, weight: 1 },
  { arbitrary: layoutBadCall, weight: 1 });

const materialize = (v: unknown) => (isBadTensor(v) ? badTensorValue(v) : v);

/** Runs the call; resolves with its result, or rejects / throws what it threw. */
export async function runBadCall(c: BadCall): Promise<unknown> {
  const { fn, args } = c.base.op in PLAIN ? plainArgs(c.base as PlainCall) : opArgs(c.base as OpCase, c.async);
  const value = materialize(c.value);
  if (c.key === undefined) args[c.arg] = value;
  else args[c.arg] = { ...(args[c.arg] as object ?? {}), [c.key]: value };
  return await fn(...args);
}

const PLAIN: Record<PlainCall['op'], (...a: any[]) => unknown> = {
  tensor: (d, s, o) => tensor(d, s, o),
  reshape: (x, s) => reshape(x, s),
  flatten: (x, d) => flatten(x, d),
  Linear: (...a) => new nn.Linear(...(a as [number, number])),
  Conv2d: (...a) => new nn.Conv2d(...(a as [number, number, number])),
  BatchNorm2d: (...a) => new nn.BatchNorm2d(...(a as [number])),
  MaxPool2d: (...a) => new nn.MaxPool2d(...(a as [number])),
  Dropout: (p) => new nn.Dropout(p),
  permute: (x, d) => permute(x, d),
  slice: (x, a, s, e, st) => slice(x, a, s, e, st),
  split: (x, s, a) => split(x, s, a),
  argmax: (x, a, k) => argmax(x, a, k),
  concat: (ts, a) => concat(ts, a),
};

function plainArgs(c: PlainCall): { fn: (...a: any[]) => unknown; args: unknown[] } {
  const args = c.args.slice();
  // reshape / flatten take a tensor of the shape given as their first argument.
  const make = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  if (c.op === 'reshape' || c.op === 'flatten') args[0] = tensor(new Float32Array(4), args[0] as number[]);
  // The layout ops take tensors of the shapes given as their first argument.
  if (c.op === 'permute' || c.op === 'slice' || c.op === 'split' || c.op === 'argmax') args[0] = make(args[0] as number[]);
  if (c.op === 'concat') args[0] = (args[0] as number[][]).map(make);
  return { fn: PLAIN[c.op], args };
}

function opArgs(c: OpCase, useAsync: boolean): { fn: (...a: any[]) => unknown; args: unknown[] } {
  const t = (shapes: number[][]) => makeTensors(c.data, shapes, false);
  switch (c.op) {
    case 'add': case 'sub': case 'mul': case 'div':
      return { fn: ops[c.op], args: [c.a ? t([c.a])[0] : c.scalar, c.b ? t([c.b])[0] : c.scalar] };
    case 'sum': case 'mean': return { fn: ops[c.op], args: [...t([c.x]), c.axes, c.keepDims ?? false] };
    case 'clamp': return { fn: ops.clamp, args: [...t([c.x]), c.min, c.max] };
    case 'conv2d': return { fn: useAsync ? ops.conv2dAsync : ops.conv2d, args: [...t([c.x, c.w]), c.bias ? t([[c.w[0]]])[0] : null, { ...c.opts }] };
    case 'maxPool2d': return { fn: useAsync ? ops.maxPool2dAsync : ops.maxPool2d, args: [...t([c.x]), c.kernel, { ...c.opts }] };
    case 'avgPool2d': return { fn: ops.avgPool2d, args: [...t([c.x]), c.kernel, { ...c.opts }] };
    case 'globalMaxPool2d': return { fn: ops.globalMaxPool2d, args: t([c.x]) };
    case 'globalAvgPool2d': return { fn: ops.globalAvgPool2d, args: t([c.x]) };
    case 'gemm': return { fn: useAsync ? ops.gemmAsync : ops.gemm, args: [...t([c.a, c.b]), c.c ? t([c.c])[0] : null, { ...c.opts }] };
    case 'linear': return { fn: ops.linear, args: [...t([c.x, c.w]), c.bias ? t([[c.w[0]]])[0] : null] };
    case 'matmul': return { fn: useAsync ? ops.matmulAsync : ops.matmul, args: t([c.a, c.b]) };
    case 'relu': case 'sigmoid': case 'tanh': return { fn: ops[c.op], args: t([c.x]) };
    case 'leakyRelu': return { fn: ops.leakyRelu, args: [...t([c.x]), c.slope ?? 0.01] };
    case 'softmax': case 'logSoftmax': return { fn: ops[c.op], args: [...t([c.x]), c.axis ?? -1] };
    case 'crossEntropy': case 'nllLoss': return { fn: c.op === 'nllLoss' ? ops.nllLoss : ops.crossEntropy, args: [...t([c.x]), c.labels.slice(), {}] };
    case 'crossEntropyProbs': {
      const p = tensor(new Float32Array(c.x[0] * c.x[1]).fill(1 / c.x[1]), c.x);
      return { fn: ops.crossEntropy, args: [...t([c.x]), p, {}] };
    }
    case 'mseLoss': return { fn: ops.mseLoss, args: [...t([c.x, c.x]), {}] };
    case 'bceWithLogits': return { fn: ops.bceWithLogits, args: [...t([c.x]), tensor(new Float32Array(c.x.reduce((a, b) => a * b, 1)).fill(0.5), c.x), {}] };
  }
}
