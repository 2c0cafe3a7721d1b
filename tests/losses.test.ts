// Losses (crossEntropy with labels / probabilities / label smoothing, nllLoss, mseLoss,
// bceWithLogits) and each reduction: values against float64 formulas written here, finite
// differences on every backend, native against js on random shapes, huge logits, NaN, and bad input.
import { describe, expect, it } from 'vitest';
import { tensor, Tensor } from '../lib/index.js';
import { bceWithLogits, crossEntropy, mseLoss, nllLoss } from '../lib/ops/loss.js';
import type { LossReduction } from '../lib/ops/loss.js';
import { backendByName, hostKernels } from '../lib/backend/registry.js';
import {
  backends, expectClose, forwardBackward, gradcheck, hasCpu, randData, randInt, randTensor, rng, withBackend,
} from './helpers.js';

const reductions: LossReduction[] = ['mean', 'sum', 'none'];
const any = (v: unknown) => v as never;

// ---- float64 references, written from the textbook definitions -------------------------------

/** log softmax of one row by the definition (inputs here are small, so no shift is needed). */
function logSoftmaxRow(row: number[]): number[] {
  const z = row.reduce((s, v) => s + Math.exp(v), 0);
  return row.map((v) => Math.log(Math.exp(v) / z));
}

function reduce(items: number[], reduction: LossReduction): number[] {
  const sum = items.reduce((a, b) => a + b, 0);
  return reduction === 'none' ? items : [reduction === 'mean' ? sum / items.length : sum];
}

function rows(data: ArrayLike<number>, c: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += c) out.push(Array.from(data).slice(i, i + c));
  return out;
}

const sigmoid64 = (x: number) => 1 / (1 + Math.exp(-x));

describe.each(backends)('values against float64 formulas on %s', (backend) => {
  const logitsData = [1, 2, 3, -1, 0.5, 0, 0.25, -2, 1.5];
  const labels = [2, 0, 1];
  const probs = [0.2, 0.3, 0.5, 1, 0, 0, 0.1, 0.6, 0.3];

  it('crossEntropy of [1,2,3] at label 2 is PyTorch\'s 0.40760596', () => {
    withBackend(backend, () => {
      expect(crossEntropy(tensor([1, 2, 3], [1, 3]), [2]).data[0]).toBeCloseTo(0.40760596, 6);
    });
  });

  for (const reduction of reductions) {
    it(`crossEntropy labels, ${reduction}`, () => {
      const items = rows(logitsData, 3).map((row, r) => -logSoftmaxRow(row)[labels[r]]);
      const y = withBackend(backend, () => crossEntropy(tensor(logitsData, [3, 3]), labels, { reduction }));
      expect(y.shape).toEqual(reduction === 'none' ? [3] : []);
      expectClose(y.data, reduce(items, reduction), 'loss', 1e-6);
    });

    it(`crossEntropy labels with labelSmoothing 0.2, ${reduction}`, () => {
      const e = 0.2;
      const items = rows(logitsData, 3).map((row, r) => {
        const lp = logSoftmaxRow(row);
        return -lp.reduce((s, v, j) => s + ((j === labels[r] ? 1 - e : 0) + e / 3) * v, 0);
      });
      const y = withBackend(backend, () => crossEntropy(tensor(logitsData, [3, 3]), labels, { reduction, labelSmoothing: e }));
      expectClose(y.data, reduce(items, reduction), 'loss', 1e-6);
    });

    it(`crossEntropy probabilities, ${reduction} (with and without smoothing)`, () => {
      for (const e of [0, 0.1]) {
        const items = rows(logitsData, 3).map((row, r) => {
          const lp = logSoftmaxRow(row);
          return -lp.reduce((s, v, j) => s + (probs[r * 3 + j] * (1 - e) + e / 3) * v, 0);
        });
        const y = withBackend(backend, () => crossEntropy(tensor(logitsData, [3, 3]), tensor(probs, [3, 3]), { reduction, labelSmoothing: e }));
        expect(y.shape).toEqual(reduction === 'none' ? [3] : []);
        expectClose(y.data, reduce(items, reduction), `loss e=${e}`, 1e-6);
      }
    });

    it(`nllLoss, ${reduction}`, () => {
      const lp = rows(logitsData, 3).flatMap(logSoftmaxRow);
      const items = labels.map((l, r) => -lp[r * 3 + l]);
      const y = withBackend(backend, () => nllLoss(tensor(lp, [3, 3]), labels, { reduction }));
      expect(y.shape).toEqual(reduction === 'none' ? [3] : []);
      expectClose(y.data, reduce(items, reduction), 'loss', 1e-6);
    });

    it(`mseLoss, ${reduction}`, () => {
      const a = [1, -2, 0.5, 3, 0, 2.25];
      const b = [0.5, 1, 0.5, -1, 0.125, 2];
      const items = a.map((v, i) => (v - b[i]) ** 2);
      const y = withBackend(backend, () => mseLoss(tensor(a, [2, 3]), tensor(b, [2, 3]), { reduction }));
      expect(y.shape).toEqual(reduction === 'none' ? [2, 3] : []);
      expectClose(y.data, reduce(items, reduction), 'loss', 1e-7);
    });

    it(`bceWithLogits, ${reduction}, with and without posWeight`, () => {
      const x = [0.3, -1.2, 2.5, 0, -0.4, 1];
      const t = [1, 0, 0.25, 0.5, 0, 1];
      const pw = [2, 0.5, 1.5];
      for (const withPw of [false, true]) {
        const items = x.map((v, i) => {
          const p = withPw ? pw[i % 3] : 1;
          return -(p * t[i] * Math.log(sigmoid64(v)) + (1 - t[i]) * Math.log(1 - sigmoid64(v)));
        });
        const y = withBackend(backend, () => bceWithLogits(tensor(x, [2, 3]), tensor(t, [2, 3]),
          { reduction, posWeight: withPw ? tensor(pw, [3]) : null }));
        expect(y.shape).toEqual(reduction === 'none' ? [2, 3] : []);
        expectClose(y.data, reduce(items, reduction), `loss posWeight ${withPw}`, 1e-6);
      }
    });
  }

  it('gradients at a point: softmax - p for crossEntropy, sigmoid - t for bceWithLogits, 2(a-b)/n for mse', () => {
    withBackend(backend, () => {
      const x = tensor(logitsData, [3, 3], { requiresGrad: true });
      crossEntropy(x, tensor(probs, [3, 3])).backward();
      const expected = rows(logitsData, 3).flatMap((row, r) => logSoftmaxRow(row).map((v, j) => (Math.exp(v) - probs[r * 3 + j]) / 3));
      expectClose(x.grad!.data, expected, 'crossEntropy dlogits', 1e-5);

      const b = tensor([0.3, -1.2, 2.5], [3], { requiresGrad: true });
      const t = tensor([1, 0, 0.25], [3], { requiresGrad: true });
      bceWithLogits(b, t, { reduction: 'sum' }).backward();
      expectClose(b.grad!.data, [0.3, -1.2, 2.5].map((v, i) => sigmoid64(v) - [1, 0, 0.25][i]), 'bce dlogits', 1e-5);
      expectClose(t.grad!.data, [-0.3, 1.2, -2.5], 'bce dtarget', 1e-6);

      const m = tensor([1, 2], [2], { requiresGrad: true });
      const m2 = tensor([0, 4], [2], { requiresGrad: true });
      mseLoss(m, m2).backward();
      expectClose(m.grad!.data, [1, -2], 'mse dinput', 1e-7);
      expectClose(m2.grad!.data, [-1, 2], 'mse dtarget', 1e-7);
    });
  });
});

// ---- finite differences -------------------------------------------------------------------------

type Check = [label: string, makeInputs: () => Tensor[], f: (t: Tensor[]) => Tensor];

function probTensor(r: () => number, n: number, c: number): Tensor {
  const d = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += d[i * c + j] = r() + 0.05;
    for (let j = 0; j < c; j++) d[i * c + j] /= s;
  }
  return tensor(d, [n, c]);
}

function unitTensor(r: () => number, shape: number[], requiresGrad: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => 0.15 + 0.7 * r()), shape, { requiresGrad });
}

const gradChecks: Check[] = reductions.flatMap((reduction): Check[] => [
  [`crossEntropy labels ${reduction}`, () => [randTensor(rng(1), [4, 5], true)], ([x]) => crossEntropy(x, [0, 4, 2, 2], { reduction })],
  [`crossEntropy labels smoothing ${reduction}`, () => [randTensor(rng(2), [3, 4], true)], ([x]) => crossEntropy(x, [3, 0, 1], { reduction, labelSmoothing: 0.3 })],
  [`crossEntropy probabilities ${reduction}`, () => { const r = rng(3); return [randTensor(r, [4, 3], true), probTensor(r, 4, 3)]; },
    ([x, p]) => crossEntropy(x, p, { reduction })],
  [`crossEntropy unnormalised probabilities + smoothing ${reduction}`, () => { const r = rng(4); return [randTensor(r, [2, 5], true), unitTensor(r, [2, 5], false)]; },
    ([x, p]) => crossEntropy(x, p, { reduction, labelSmoothing: 0.1 })],
  [`nllLoss ${reduction}`, () => [randTensor(rng(5), [5, 3], true)], ([x]) => nllLoss(x, [2, 0, 1, 1, 0], { reduction })],
  [`mseLoss both ${reduction}`, () => { const r = rng(6); return [randTensor(r, [2, 3, 2], true), randTensor(r, [2, 3, 2], true)]; },
    ([a, b]) => mseLoss(a, b, { reduction })],
  [`mseLoss 0-d ${reduction}`, () => { const r = rng(7); return [randTensor(r, [], true), randTensor(r, [], false)]; }, ([a, b]) => mseLoss(a, b, { reduction })],
  [`bceWithLogits both ${reduction}`, () => { const r = rng(8); return [randTensor(r, [3, 4], true, 2), unitTensor(r, [3, 4], true)]; },
    ([x, t]) => bceWithLogits(x, t, { reduction })],
  [`bceWithLogits posWeight ${reduction}`, () => { const r = rng(9); return [randTensor(r, [2, 3], true, 2), unitTensor(r, [2, 3], true)]; },
    ([x, t]) => bceWithLogits(x, t, { reduction, posWeight: tensor([0.5, 2, 3], [3]) })],
]);

for (const backend of backends) {
  describe(`loss gradcheck on ${backend}`, () => {
    it.each(gradChecks)('%s', (label, makeInputs, f) => {
      withBackend(backend, () => gradcheck(label, makeInputs(), f));
    });
    it('crossEntropy inside a chain: nllLoss(logSoftmax) has the same gradient', async () => {
      const { logSoftmax } = await import('../lib/index.js');
      withBackend(backend, () => {
        const a = randTensor(rng(11), [3, 4], true);
        const b = tensor(a.data.slice(), [3, 4], { requiresGrad: true });
        const la = crossEntropy(a, [1, 3, 0]);
        const lb = nllLoss(logSoftmax(b), [1, 3, 0]);
        expectClose(la.data, lb.data, 'loss', 1e-6);
        la.backward();
        lb.backward();
        expectClose(a.grad!.data, b.grad!.data, 'grad', 1e-5);
      });
    });
  });
}

// ---- native against js ----------------------------------------------------------------------------

interface LossCase { label: string; seed: number; makeInputs: () => Tensor[]; forward: (t: Tensor[]) => Tensor }

function lossCases(): LossCase[] {
  const r = rng(20261122);
  const out: LossCase[] = [];
  const batches = [1, 1, 2, 7, 64, 333, 5000];
  for (let i = 0; i < 28; i++) {
    const n = batches[i % batches.length];
    const c = i % 4 === 0 ? 1 : randInt(r, 2, i % 5 === 0 ? 300 : 12);
    const reduction = reductions[i % 3];
    const labels = Array.from({ length: n }, () => randInt(r, 0, c - 1));
    const seed = 9100 + i;
    const smoothing = i % 2 ? 0 : 0.15;
    out.push({ label: `crossEntropy labels [${n},${c}] ${reduction} e=${smoothing}`, seed,
      makeInputs: () => [tensor(randData(rng(seed), n * c, 5), [n, c], { requiresGrad: true })],
      forward: ([x]) => crossEntropy(x, labels, { reduction, labelSmoothing: smoothing }) });
    out.push({ label: `crossEntropy probabilities [${n},${c}] ${reduction}`, seed,
      makeInputs: () => { const q = rng(seed); return [tensor(randData(q, n * c, 5), [n, c], { requiresGrad: true }), probTensor(q, n, c)]; },
      forward: ([x, p]) => crossEntropy(x, p, { reduction }) });
    out.push({ label: `nllLoss [${n},${c}] ${reduction}`, seed,
      makeInputs: () => [tensor(randData(rng(seed), n * c, 3), [n, c], { requiresGrad: true })],
      forward: ([x]) => nllLoss(x, labels, { reduction }) });
    const shape = i % 7 === 6 ? [100, 1001] : [n, c, randInt(r, 1, 3)];
    out.push({ label: `mseLoss [${shape}] ${reduction}`, seed,
      makeInputs: () => { const q = rng(seed); return [randTensor(q, shape, true), randTensor(q, shape, true)]; },
      forward: ([a, b]) => mseLoss(a, b, { reduction }) });
    const pw = i % 2 ? null : tensor(Float32Array.from({ length: shape[shape.length - 1] }, (_, k) => 0.5 + k % 3), [shape[shape.length - 1]]);
    out.push({ label: `bceWithLogits [${shape}] ${reduction} posWeight ${pw !== null}`, seed,
      makeInputs: () => { const q = rng(seed); return [randTensor(q, shape, true, 4), unitTensor(q, shape, true)]; },
      forward: ([x, t]) => bceWithLogits(x, t, { reduction, posWeight: pw }) });
  }
  return out;
}

describe.skipIf(!hasCpu)('losses: cpu matches js', () => {
  const cases = lossCases();
  it('covers N=1 and a large N', () => {
    expect(cases.some((c) => c.label.includes('[1,'))).toBe(true);
    expect(cases.some((c) => c.label.includes('[5000,'))).toBe(true);
  });
  it.each(cases.map((c) => [c.label, c] as const))('%s', (label, c) => {
    const expected = withBackend('js', () => forwardBackward(c.makeInputs, c.forward, c.seed));
    const actual = withBackend('cpu', () => forwardBackward(c.makeInputs, c.forward, c.seed));
    expect(actual.shape).toEqual(expected.shape);
    expectClose(actual.out, expected.out, `${label} forward`, 1e-5);
    expect(actual.grads.length).toBe(expected.grads.length);
    actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `${label} grad of input ${i}`, 1e-5));
  });
});

// ---- stability and NaN -----------------------------------------------------------------------------

describe.each(backends)('huge logits stay finite and exact on %s', (backend) => {
  it('crossEntropy with logits of ±1e4 (labels, probabilities, smoothing)', () => {
    withBackend(backend, () => {
      const x = tensor([1e4, -1e4, 0, -1e4, 1e4, 0], [2, 3], { requiresGrad: true });
      const y = crossEntropy(x, [1, 1], { reduction: 'none' });
      expect(Array.from(y.data)).toEqual([2e4, 0]);
      y.backward(tensor([1, 1], [2]));
      expect(Array.from(x.grad!.data)).toEqual([1, -1, 0, 0, 0, 0]);
      expect(crossEntropy(x, [1, 1]).data[0]).toBe(1e4);
      const soft = crossEntropy(x, tensor([0.5, 0.5, 0, 0, 0.5, 0.5], [2, 3]), { reduction: 'none' });
      expectClose(soft.data, [1e4, 5e3], 'soft', 1e-7);
      const smooth = crossEntropy(x, [0, 1], { labelSmoothing: 0.3, reduction: 'none' });
      expectClose(smooth.data, [0.1 * 2e4 + 0.1 * 1e4, 0.1 * 2e4 + 0.1 * 1e4], 'smoothing', 1e-6);
      expect(smooth.data.every(Number.isFinite)).toBe(true);
    });
  });
  it('bceWithLogits with logits of ±1e4', () => {
    withBackend(backend, () => {
      const x = tensor([1e4, -1e4, 1e4, -1e4, 1e4], [5], { requiresGrad: true });
      const t = tensor([1, 0, 0, 1, 0.5], [5], { requiresGrad: true });
      const y = bceWithLogits(x, t, { reduction: 'none' });
      expect(Array.from(y.data)).toEqual([0, 0, 1e4, 1e4, 5e3]);
      y.backward(tensor([1, 1, 1, 1, 1], [5]));
      expect(Array.from(x.grad!.data)).toEqual([0, 0, 1, -1, 0.5]);
      expect(Array.from(t.grad!.data)).toEqual([-1e4, 1e4, -1e4, 1e4, -1e4]);
      const w = bceWithLogits(x, t, { reduction: 'none', posWeight: tensor([3], [1]) });
      expect(Array.from(w.data)).toEqual([0, 0, 1e4, 3e4, 5e3]);
    });
  });
});

describe.each(backends)('NaN propagates through the losses on %s', (backend) => {
  const nanAt = (data: number[], i: number) => { const d = data.slice(); d[i] = NaN; return d; };
  it.each([
    ['crossEntropy labels', () => crossEntropy(tensor(nanAt([1, 2, 3, 4, 5, 6], 4), [2, 3]), [0, 1], { reduction: 'none' }), [1], [0]],
    ['crossEntropy probabilities', () => crossEntropy(tensor(nanAt([1, 2, 3, 4, 5, 6], 0), [2, 3]), tensor([0, 0, 1, 1, 0, 0], [2, 3]), { reduction: 'none' }), [0], [1]],
    ['nllLoss', () => nllLoss(tensor(nanAt([-1, -2, -3, -4], 2), [2, 2]), [0, 0], { reduction: 'none' }), [1], [0]],
    ['mseLoss', () => mseLoss(tensor(nanAt([1, 2, 3], 1), [3]), tensor([0, 0, 0], [3]), { reduction: 'none' }), [1], [0, 2]],
    ['mseLoss NaN target', () => mseLoss(tensor([1, 2, 3], [3]), tensor(nanAt([0, 0, 0], 2), [3]), { reduction: 'none' }), [2], [0, 1]],
    ['bceWithLogits', () => bceWithLogits(tensor(nanAt([1, 2, 3], 0), [3]), tensor([0, 1, 0.5], [3]), { reduction: 'none' }), [0], [1, 2]],
    ['bceWithLogits NaN target', () => bceWithLogits(tensor([1, 2, 3], [3]), tensor(nanAt([0, 1, 0.5], 1), [3]), { reduction: 'none' }), [1], [0, 2]],
  ] as const)('%s', (_label, run, nanItems, finiteItems) => {
    const y = withBackend(backend, run);
    for (const i of nanItems) expect(Number.isNaN(y.data[i]), `item ${i}: ${Array.from(y.data)}`).toBe(true);
    for (const i of finiteItems) expect(Number.isFinite(y.data[i]), `item ${i}: ${Array.from(y.data)}`).toBe(true);
  });
  it('a NaN item makes the mean NaN', () => {
    withBackend(backend, () => {
      expect(Number.isNaN(mseLoss(tensor([NaN, 1], [2]), tensor([0, 0], [2])).data[0])).toBe(true);
      expect(Number.isNaN(bceWithLogits(tensor([NaN, 1], [2]), tensor([0, 0], [2]), { reduction: 'sum' }).data[0])).toBe(true);
      expect(Number.isNaN(crossEntropy(tensor([NaN, 1], [1, 2]), tensor([1, 0], [1, 2])).data[0])).toBe(true);
    });
  });
});

// ---- bad input ----------------------------------------------------------------------------------------

const q = rng(5);
const logits = randTensor(q, [3, 4]);
const t34 = randTensor(q, [3, 4]);

type BadCase = [name: string, fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: RegExp];

const badCases: BadCase[] = [
  ['crossEntropy: probabilities of another shape', () => crossEntropy(logits, randTensor(q, [3, 5])), RangeError, /^crossEntropy: target probabilities \[3,5\] must have the shape of logits \[3,4\]/],
  ['crossEntropy: wrong label count', () => crossEntropy(logits, [0, 1]), RangeError, /^crossEntropy: labels has 2 entries but logits has 3 rows/],
  ['crossEntropy: label Tensor count', () => crossEntropy(logits, tensor([0, 1, 2, 3], [4])), RangeError, /^crossEntropy: labels has 4 entries/],
  ['crossEntropy: non-integer label', () => crossEntropy(logits, [0, 2.5, 1], { reduction: 'none' }), RangeError, /^crossEntropy: labels\[1\] must be an integer class index, got 2\.5/],
  ['crossEntropy: label out of range', () => crossEntropy(logits, [0, 1, 4], { labelSmoothing: 0.1 }), RangeError, /^crossEntropy: labels\[2\] is 4, out of range for 4 classes/],
  ['crossEntropy: bad reduction', () => crossEntropy(logits, [0, 1, 2], any({ reduction: 'average' })), RangeError, /^crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'average'/],
  ['crossEntropy: reduction not a string', () => crossEntropy(logits, [0, 1, 2], any({ reduction: 1 })), TypeError, /^crossEntropy: reduction must be a string/],
  ['crossEntropy: labelSmoothing > 1', () => crossEntropy(logits, [0, 1, 2], { labelSmoothing: 1.5 }), RangeError, /^crossEntropy: labelSmoothing must be in \[0, 1\], got 1\.5/],
  ['crossEntropy: labelSmoothing NaN', () => crossEntropy(logits, [0, 1, 2], { labelSmoothing: NaN }), RangeError, /^crossEntropy: labelSmoothing must be finite/],
  ['crossEntropy: unknown option', () => crossEntropy(logits, [0, 1, 2], any({ reductio: 'sum' })), TypeError, /^crossEntropy: unknown option 'reductio'/],
  ['nllLoss: logProbs 1-d', () => nllLoss(randTensor(q, [4]), [0]), RangeError, /^nllLoss: logProbs must be 2-d/],
  ['nllLoss: wrong label count', () => nllLoss(logits, [0, 1, 2, 3]), RangeError, /^nllLoss: labels has 4 entries but logProbs has 3 rows \(logProbs \[3,4\]\)/],
  ['nllLoss: non-integer label', () => nllLoss(logits, [0, 1, 0.5]), RangeError, /^nllLoss: labels\[2\] must be an integer class index, got 0\.5/],
  ['nllLoss: label out of range', () => nllLoss(logits, [0, -1, 2]), RangeError, /^nllLoss: labels\[1\] is -1, out of range for 4 classes \(logProbs \[3,4\]\)/],
  ['nllLoss: labels not array-like', () => nllLoss(logits, any(7)), TypeError, /^nllLoss: labels must be an array-like/],
  ['nllLoss: bad reduction', () => nllLoss(logits, [0, 1, 2], any({ reduction: 'avg' })), RangeError, /^nllLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'/],
  ['nllLoss: empty batch', () => nllLoss(tensor([], [0, 4]), []), RangeError, /^nllLoss: logProbs must have at least one row/],
  ['mseLoss: shape mismatch', () => mseLoss(logits, randTensor(q, [4, 3])), RangeError, /^mseLoss: target \[4,3\] must have the same shape as input \[3,4\]/],
  ['mseLoss: no broadcasting', () => mseLoss(logits, randTensor(q, [1, 4])), RangeError, /^mseLoss: target \[1,4\] must have the same shape as input \[3,4\]/],
  ['mseLoss: target not a tensor', () => mseLoss(logits, any([1, 2])), TypeError, /^mseLoss: target must be a Tensor/],
  ['mseLoss: input not a tensor', () => mseLoss(any(null), t34), TypeError, /^mseLoss: input must be a Tensor/],
  ['mseLoss: bad reduction', () => mseLoss(logits, t34, any({ reduction: 'Mean' })), RangeError, /^mseLoss: reduction must be 'mean', 'sum' or 'none', got 'Mean'/],
  ['mseLoss: options not an object', () => mseLoss(logits, t34, any('sum')), TypeError, /^mseLoss: options must be an object/],
  ['bceWithLogits: shape mismatch', () => bceWithLogits(logits, randTensor(q, [12])), RangeError, /^bceWithLogits: target \[12\] must have the same shape as logits \[3,4\]/],
  ['bceWithLogits: target above 1', () => bceWithLogits(tensor([0, 0], [2]), tensor([0.5, 1.5], [2])), RangeError, /^bceWithLogits: target\[1\] is 1\.5, outside \[0, 1\]/],
  ['bceWithLogits: target below 0', () => bceWithLogits(tensor([0, 0], [2]), tensor([-0.1, 1], [2])), RangeError, /^bceWithLogits: target\[0\] is -0\.1/],
  ['bceWithLogits: posWeight length', () => bceWithLogits(tensor([0, 0, 0, 0], [2, 2]), tensor([0, 1, 0, 1], [2, 2]), { posWeight: tensor([1, 2, 3], [3]) }), RangeError, /^bceWithLogits: posWeight \[3\] must be 1-d with 2 \(the last dimension of logits \[2,2\]\) or 1 elements/],
  ['bceWithLogits: posWeight not a tensor', () => bceWithLogits(tensor([0], [1]), tensor([0], [1]), any({ posWeight: [2] })), TypeError, /^bceWithLogits: posWeight must be a Tensor/],
  ['bceWithLogits: bad reduction', () => bceWithLogits(tensor([0], [1]), tensor([0], [1]), any({ reduction: null })), TypeError, /^bceWithLogits: reduction must be a string/],
];

describe.each(backends)('bad input is rejected before any kernel runs on %s', (backend) => {
  it.each(badCases)('%s', (_name, fn, cls, message) => {
    withBackend(backend, () => {
      let caught: unknown = null;
      try {
        fn();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(cls);
      expect((caught as Error).message).toMatch(message);
    });
  });
});

describe.skipIf(!hasCpu)('the native kernels validate too', () => {
  it('rejects an out-of-range label, a wrong dy length, a posWeight that does not divide, and short buffers', () => {
    const cpu = hostKernels('cpu');
    const x = new Float32Array(6);
    expect(() => cpu.nllLoss(x, new Int32Array([0, 3]), 2, 3, null)).toThrow(/labels\[1\] = 3 is out of range \[0, 3\)/);
    expect(() => cpu.nllLossBackward(new Int32Array([0, 1]), 2, 3, new Float32Array(3), 1, x)).toThrow(RangeError);
    expect(() => cpu.nllLossBackward(new Int32Array([0, 1]), 2, 3, new Float32Array(3), 1, x)).toThrow(/nllLossBackward: dy has 3 elements, expected 1 or 2/);
    expect(() => cpu.bceWithLogits(x, x, new Float32Array(4), null)).toThrow(/pos_weight has 4 elements/);
    expect(() => cpu.mseLoss(x, new Float32Array(5), null)).toThrow(/mseLoss: target has 5 elements/);
    expect(() => cpu.crossEntropySoft(x, x, 2, 3, new Float32Array(6), new Float32Array(3))).toThrow(/crossEntropySoft: losses has 3 elements/);
    expect(() => cpu.mseLossBackward(x, x, new Float32Array(1), 1, any([1]), null)).toThrow(TypeError);
  });
});
