// The optimizer updates: the native cpu kernels (SIMD, threaded) against the js loops, over
// several steps in a row on seeded random parameters of odd sizes (vector tails), a size the
// core splits over threads, NaN gradients, and every variant; then the optimizers end to end
// on both backends, and the binding's argument checks.
import { describe, expect, it } from 'vitest';
import { hostKernels } from '../lib/backend/registry.js';
import type { AdamStepOptions, RmspropStepOptions, SgdStepOptions } from '../lib/backend/types.js';
import { tensor } from '../lib/index.js';
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from '../lib/optim/index.js';
import { expectClose, hasCpu, randData, rng, withBackend } from './helpers.js';

type Kernels = ReturnType<typeof hostKernels>;

// 70001 is split over two threads (32K-element chunks); NaN runs on the small sizes.
const SIZES = [1, 7, 16, 17, 1000, 70001];
const STEPS = 4;

/** NaN where expected has NaN, close elsewhere. */
function expectSame(actual: Float32Array, expected: Float32Array, label: string, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const keep: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isNaN(expected[i])) keep.push(i);
    else if (!Number.isNaN(actual[i])) throw new Error(`${label}: got ${actual[i]} at [${i}], expected NaN`);
  }
  if (keep.length === expected.length) expectClose(actual, expected, label, rtol, atol);
  else expectClose(keep.map((i) => actual[i]), keep.map((i) => expected[i]), label, rtol, atol);
}

/** Seeded gradients for STEPS steps; every 11th element NaN when asked. */
function gradients(seed: number, n: number, withNaN: boolean): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: STEPS }, () => {
    const g = randData(r, n);
    if (withNaN) for (let i = 0; i < n; i += 11) g[i] = NaN;
    return g;
  });
}

/**
 * Runs `step` on each backend from the same start (param, then one state buffer per entry of
 * `uses`, null where the variant has none) and compares every buffer after every step.
 */
function compare(label: string, seed: number, n: number, withNaN: boolean, uses: boolean[],
  step: (k: Kernels, param: Float32Array, grad: Float32Array, state: (Float32Array | null)[], t: number) => void): void {
  const r = rng(seed + 1);
  const start = [randData(r, n), ...uses.map((u) => (u ? new Float32Array(n) : null))];
  const js = start.map((b) => b?.slice() ?? null);
  const cpu = start.map((b) => b?.slice() ?? null);
  gradients(seed, n, withNaN).forEach((grad, i) => {
    step(hostKernels('js'), js[0]!, grad, js.slice(1), i + 1);
    step(hostKernels('cpu'), cpu[0]!, grad, cpu.slice(1), i + 1);
    js.forEach((b, j) => {
      if (b) expectSame(cpu[j]!, b, `${label} n=${n}${withNaN ? ' NaN' : ''} step ${i + 1} buffer ${j}`);
    });
  });
}

const SGD_CASES: [string, Omit<SgdStepOptions, 'first'>][] = [
  ['plain', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }],
  ['weight decay', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: false }],
  ['momentum', { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }],
  ['momentum dampening', { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.001, nesterov: false }],
  ['nesterov', { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true }],
];

const ADAM_CASES: [string, Omit<AdamStepOptions, 'step'>, boolean][] = [
  ['adam', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }, false],
  ['adam l2', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: false }, false],
  ['adamw', { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, decoupled: true }, false],
  ['amsgrad', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }, true],
  ['adamw amsgrad', { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true }, true],
];

const RMSPROP_CASES: [string, RmspropStepOptions, boolean][] = [
  ['plain', { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0 }, false],
  ['weight decay', { lr: 1e-2, alpha: 0.9, eps: 1e-8, weightDecay: 0.01, momentum: 0 }, false],
  ['momentum', { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9 }, false],
  ['centered', { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0 }, true],
  ['centered momentum', { lr: 1e-2, alpha: 0.9, eps: 1e-6, weightDecay: 0.01, momentum: 0.5 }, true],
];

const VARIANTS = SIZES.flatMap((n) => (n > 1000 ? [false] : [false, true]).map((withNaN) => [n, withNaN] as const));

describe.skipIf(!hasCpu)('optimizer kernels: cpu matches js', () => {
  it.each(SGD_CASES)('sgd %s', (label, o) => {
    VARIANTS.forEach(([n, withNaN], v) => compare(`sgd ${label}`, 100 + v, n, withNaN, [o.momentum !== 0],
      (k, p, g, [buf], t) => k.sgdStep(p, g, buf, { ...o, first: t === 1 })));
  });
  it.each(ADAM_CASES)('%s', (label, o, amsgrad) => {
    VARIANTS.forEach(([n, withNaN], v) => compare(label, 200 + v, n, withNaN, [true, true, amsgrad],
      (k, p, g, [m, s, vmax], t) => k.adamStep(p, g, m!, s!, vmax, { ...o, step: t })));
  });
  it.each(RMSPROP_CASES)('rmsprop %s', (label, o, centered) => {
    VARIANTS.forEach(([n, withNaN], v) => compare(`rmsprop ${label}`, 300 + v, n, withNaN, [true, o.momentum > 0, centered],
      (k, p, g, [sq, buf, avg]) => k.rmspropStep(p, g, sq!, buf, avg, o)));
  });
});

describe.skipIf(!hasCpu)('optimizers end to end: cpu matches js', () => {
  const makers: [string, (params: ReturnType<typeof tensor>[]) => Optimizer][] = [
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['Adam amsgrad', (ps) => new Adam(ps, { lr: 1e-2, amsgrad: true })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 1e-2, weightDecay: 0.1 })],
    ['RMSprop centered', (ps) => new RMSprop(ps, { lr: 1e-2, momentum: 0.5, centered: true })],
  ];
  it.each(makers)('%s: five steps on two parameters', (label, make) => {
    const run = () => {
      const r = rng(7);
      const ps = [tensor(randData(r, 33), [3, 11], { requiresGrad: true }), tensor(randData(r, 5), [5], { requiresGrad: true })];
      const opt = make(ps);
      for (let s = 0; s < 5; s++) {
        ps.forEach((p) => { p.grad = tensor(randData(r, p.size), p.shape); });
        opt.step();
      }
      return ps.map((p) => p.toArray());
    };
    const expected = withBackend('js', run);
    const actual = withBackend('cpu', run);
    actual.forEach((a, i) => expectClose(a, expected[i], `${label} parameter ${i}`, 1e-5));
  });
});

describe.skipIf(!hasCpu)('the optimizer binding checks its arguments', () => {
  const f = (n: number) => new Float32Array(n);
  const sgd: SgdStepOptions = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, first: true };
  const adam: AdamStepOptions = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 };
  const rms: RmspropStepOptions = { lr: 0.1, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9 };
  it('names the argument in TypeError / RangeError and leaves the parameter untouched', () => {
    const cpu = hostKernels('cpu');
    const p = new Float32Array([1, 2, 3]);
    expect(() => cpu.sgdStep(p, f(2), f(3), sgd)).toThrow(new RangeError('sgdStep: grad has 2 elements, expected 3'));
    expect(() => cpu.sgdStep(p, f(3), null, sgd)).toThrow(new TypeError('sgdStep: buf must be given when momentum is not 0'));
    expect(() => cpu.sgdStep(p, f(3), f(3), { ...sgd, lr: 'x' } as never)).toThrow(TypeError);
    expect(() => cpu.sgdStep(p, f(3), f(3), null as never)).toThrow(TypeError);
    expect(() => cpu.adamStep(p, f(3), f(3), f(4), null, adam)).toThrow(new RangeError('adamStep: expAvgSq has 4 elements, expected 3'));
    expect(() => cpu.adamStep(p, f(3), f(3), f(3), null, { ...adam, step: 0 })).toThrow(new RangeError('adamStep: step must be >= 1, got 0'));
    expect(() => cpu.adamStep(p, f(3), new Float64Array(3) as never, f(3), null, adam)).toThrow(TypeError);
    expect(() => cpu.rmspropStep(p, f(3), f(3), null, null, rms)).toThrow(new TypeError('rmspropStep: momentumBuffer must be given when momentum > 0'));
    expect(() => cpu.rmspropStep(p, f(3), f(3), f(3), f(2), rms)).toThrow(new RangeError('rmspropStep: gradAvg has 2 elements, expected 3'));
    expect(Array.from(p)).toEqual([1, 2, 3]);
  });
  it('centered RMSprop with alpha 0 never takes the square root of a rounded-negative variance', () => {
    // v - a^2 = g^2 - g^2, which fused multiply-adds round to just below 0 for these gradients.
    const grad = new Float32Array([0.3, 0.7, 1.1, 1.3, -0.6, 0.1, 2.5, -1.7, 0.9, 0.05, 3.3, -0.2, 1.9, 0.45, -0.85, 1.05, 0.7]);
    const results = (['js', 'cpu'] as const).map((name) => {
      const p = new Float32Array(grad.length).fill(1);
      hostKernels(name).rmspropStep(p, grad, f(grad.length), null, f(grad.length), { ...rms, alpha: 0, momentum: 0, eps: 0.1 });
      return p;
    });
    expect(results[1].every(Number.isFinite)).toBe(true);
    // The variance is 0 up to rounding, which the square root magnifies: a loose comparison.
    expectClose(results[1], results[0], 'centered alpha 0', 1e-2);
  });
  it('empty parameters are a no-op', () => {
    const cpu = hostKernels('cpu');
    expect(() => cpu.sgdStep(f(0), f(0), f(0), sgd)).not.toThrow();
    expect(() => cpu.adamStep(f(0), f(0), f(0), f(0), f(0), adam)).not.toThrow();
    expect(() => cpu.rmspropStep(f(0), f(0), f(0), f(0), f(0), rms)).not.toThrow();
  });
});
