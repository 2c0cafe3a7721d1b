// The native cpu backend against the js reference on seeded random problems, forward and
// backward, for every op; then a subset under each native ISA.
import { describe, expect, it } from 'vitest';
import { argmax, backendInfo, maxPool2d, tensor } from '../lib/index.js';
import { setNativeIsa } from '../lib/backend/registry.js';
import { allCases, caseTolerance, type OpCase } from './op-cases.js';
import { expectClose, forwardBackward, hasCpu, pick, randInt, requireNative, rng, withBackend } from './helpers.js';

const cases = allCases();

function compare(c: OpCase, label: string): void {
  const expected = withBackend('js', () => forwardBackward(c.makeInputs, c.forward, c.seed));
  const actual = withBackend('cpu', () => forwardBackward(c.makeInputs, c.forward, c.seed));
  const tol = caseTolerance(c);
  expect(actual.shape).toEqual(expected.shape);
  expectClose(actual.out, expected.out, `${label} forward`, tol);
  expect(actual.grads.length).toBe(expected.grads.length);
  actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `${label} grad of input ${i}`, tol));
}

describe('native cpu backend is required in CI', () => {
  it.runIf(requireNative)('loads the cpu backend (CONVKIT_REQUIRE_NATIVE=1)', () => {
    expect(hasCpu, `cpu backend missing: ${backendInfo().native.error}`).toBe(true);
  });
});

describe('the case list', () => {
  it('has at least 200 seeded cases covering every op', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const ops = new Set(cases.map((c) => c.op));
    for (const op of ['conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool2d', 'globalMaxPool2d', 'gemm', 'matmul', 'linear',
      'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax', 'logSoftmax', 'crossEntropy', 'reshape', 'flatten',
      'add', 'sub', 'mul', 'div', 'sum', 'mean', 'clamp',
      'permute', 'transpose', 'concat', 'split', 'slice']) {
      expect(ops.has(op), op).toBe(true);
    }
  });
});

describe('the comparison', () => {
  it('catches one wrong element of 1% of the scale, even with the loosest tolerance', () => {
    const loosest = cases.reduce((a, c) => (caseTolerance(c) > caseTolerance(a) ? c : a));
    const result = withBackend('js', () => forwardBackward(loosest.makeInputs, loosest.forward, loosest.seed));
    const grad = result.grads[result.grads.length - 1];
    const rms = Math.sqrt(grad.reduce((s, v) => s + v * v, 0) / grad.length);
    const wrong = grad.slice();
    wrong[wrong.length >> 1] += 0.01 * rms + 0.01 * Math.abs(wrong[wrong.length >> 1]);
    expect(() => expectClose(wrong, grad, 'perturbed', caseTolerance(loosest))).toThrow(/mismatch/);
  });
});

describe.skipIf(!hasCpu)('cpu matches js', () => {
  it.each(cases.map((c, i) => [`${i} ${c.op} ${c.label}`, c] as const))('%s', (label, c) => {
    compare(c, label);
  });
});

describe.skipIf(!hasCpu)('cpu matches js under each native ISA', () => {
  const info = hasCpu ? backendInfo().native : null;
  const isas = info?.supportedIsas ?? [];
  const subset = cases.filter((_, i) => i % 7 === 0);
  it('lists at least the scalar ISA', () => {
    expect(isas).toContain('scalar');
  });
  for (const isa of isas) {
    it(`${isa}: ${subset.length} cases`, () => {
      const original = backendInfo().native.isa!;
      try {
        setNativeIsa(isa);
        expect(backendInfo().native.isa).toBe(isa);
        subset.forEach((c) => compare(c, `${isa} ${c.op} ${c.label}`));
      } finally {
        setNativeIsa(original);
      }
      expect(backendInfo().native.isa).toBe(original);
    });
  }
});

describe.skipIf(!hasCpu)('max pooling with a kernel far larger than the input', () => {
  it('visits only the taps inside the input (padding same, kernel 2^30: it used to loop over every tap)', () => {
    for (const backend of ['js', 'cpu'] as const) {
      withBackend(backend, () => {
        const x = tensor([3, 9, 1, 4, 2, 8, 7, 5, 6], [1, 1, 3, 3], { requiresGrad: true });
        const y = maxPool2d(x, 2 ** 30, { padding: 'same' });
        expect(y.shape, backend).toEqual([1, 1, 1, 1]);
        expect(y.data[0], backend).toBe(9);
        y.backward(tensor([1], [1, 1, 1, 1]));
        expect(Array.from(x.grad!.data), backend).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
      });
    }
  });
});

describe.skipIf(!hasCpu)('max pooling windows wholly in the padding', () => {
  it('give -Infinity and pass no gradient, on cpu as on js', () => {
    for (const backend of ['js', 'cpu'] as const) {
      withBackend(backend, () => {
        const x = tensor([1, 2, 3, 4], [1, 1, 1, 4], { requiresGrad: true });
        const y = maxPool2d(x, 2, { dilation: 3, padding: 2 }); // every window's rows lie in the padding
        expect(Array.from(y.data), backend).toEqual([-Infinity, -Infinity, -Infinity]);
        y.backward(tensor([1, 1, 1], [1, 1, 1, 3]));
        expect(Array.from(x.grad!.data), backend).toEqual([0, 0, 0, 0]);
      });
    }
  });
});

/** Values from a few levels (many ties), with NaN and infinities in some: argmax's rules all apply. */
function argmaxInput(seed: number, shape: number[], kind: number) {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const levels = [[-2, -1, 0, 1, 2], [-2, 0, 2, Infinity], [-1, 0, 1, NaN, 3], [-Infinity], [-0.5, 0.25, 7.5, -0]][kind];
  return tensor(Array.from({ length: n }, () => pick(r, levels)), shape);
}

describe.skipIf(!hasCpu)('argmax: cpu matches js', () => {
  const r = rng(77);
  const cases = Array.from({ length: 60 }, (_, i) => {
    const rank = 1 + (i % 5);
    const shape = Array.from({ length: rank }, () => randInt(r, 1, i % 10 === 0 ? 70 : 19));
    const axis = i % 6 === 0 ? undefined : randInt(r, -rank, rank - 1);
    return [`${i} x ${JSON.stringify(shape)} axis ${axis}`, shape, axis, i % 5] as [string, number[], number | undefined, number];
  });
  cases.push(['rows of 1000 (threaded)', [300, 1000], -1, 2], ['columns of 3000 (threaded)', [4, 33, 3000], 1, 2]);
  it.each(cases)('%s', (_label, shape, axis, kind) => {
    const x = argmaxInput(shape.length * 1000 + kind, shape, kind);
    const want = withBackend('js', () => argmax(x, axis));
    const got = withBackend('cpu', () => argmax(x, axis));
    expect(got.shape).toEqual(want.shape);
    expect(got.dtype).toBe('I32');
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });
});
