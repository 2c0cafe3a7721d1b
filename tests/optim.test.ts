// Optimizers and schedules against PyTorch's update rules. Expected values are literal
// numbers worked out by hand (in the comments) or come from float64 reference
// implementations below, written from PyTorch's documented algorithms, not from lib/optim.
import { describe, expect, it } from 'vitest';
import { linear, matmul, reshape, tensor, Tensor } from '../lib/index.js';
import { Adam, AdamW, CosineAnnealingLR, Optimizer, RMSprop, SGD, StepLR } from '../lib/optim/index.js';
import { expectClose } from './helpers.js';

const any = (v: unknown) => v as never;
const param = (values: number[]) => tensor(values, [values.length], { requiresGrad: true });
const setGrad = (p: Tensor, g: number[]) => { p.grad = tensor(g, [g.length]); };

/** Runs steps with the given gradients (one per step) and returns the parameter after each. */
function run(opt: Optimizer, p: Tensor, grads: number[][]): number[][] {
  return grads.map((g) => { setGrad(p, g); opt.step(); return Array.from(p.data); });
}

function expectSteps(actual: number[][], expected: number[][], label: string, rtol = 1e-5, atol = 1e-7): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => expectClose(a, expected[k], `${label}, step ${k + 1}`, rtol, atol));
}

// Three steps on a 3-element parameter with gradients that change sign and size.
const P0 = [1, -2, 0.5];
const GRADS = [[0.5, -1, 2], [0.1, 0.3, -1.5], [-0.4, 0.2, 0.05]];

// ---- float64 references, one per algorithm, in PyTorch's pseudo-code order ----

type Vec = number[];
const map2 = (a: Vec, b: Vec, f: (x: number, y: number) => number): Vec => a.map((x, i) => f(x, b[i]));

/**
 * torch.optim.SGD:
 *   g = grad + wd * p
 *   if momentum: b = g (first step) else b = momentum * b + (1 - dampening) * g
 *                g = g + momentum * b if nesterov else b
 *   p = p - lr * g
 */
function refSGD(p: Vec, grads: Vec[], o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; wd?: number }): Vec[] {
  const { lr, momentum = 0, dampening = 0, nesterov = false, wd = 0 } = o;
  let buf: Vec | null = null;
  return grads.map((grad) => {
    let g = map2(grad, p, (gi, pi) => gi + wd * pi);
    if (momentum !== 0) {
      const b: Vec = buf === null ? g.slice() : map2(buf, g, (bi, gi) => momentum * bi + (1 - dampening) * gi);
      buf = b;
      g = nesterov ? map2(g, b, (gi, bi) => gi + momentum * bi) : b;
    }
    p = map2(p, g, (pi, gi) => pi - lr * gi);
    return p;
  });
}

/**
 * torch.optim.RMSprop:
 *   g = grad + wd * p
 *   v = alpha * v + (1 - alpha) * g^2
 *   centered: gAvg = alpha * gAvg + (1 - alpha) * g; avg = sqrt(v - gAvg^2) + eps, else avg = sqrt(v) + eps
 *   momentum > 0: buf = momentum * buf + g / avg; p = p - lr * buf    else p = p - lr * g / avg
 */
function refRMSprop(p: Vec, grads: Vec[], o: { lr: number; alpha?: number; eps?: number; wd?: number; momentum?: number; centered?: boolean }): Vec[] {
  const { lr, alpha = 0.99, eps = 1e-8, wd = 0, momentum = 0, centered = false } = o;
  let v = p.map(() => 0), gAvg = p.map(() => 0), buf = p.map(() => 0);
  return grads.map((grad) => {
    const g = map2(grad, p, (gi, pi) => gi + wd * pi);
    v = map2(v, g, (vi, gi) => alpha * vi + (1 - alpha) * gi * gi);
    let avg: Vec;
    if (centered) {
      gAvg = map2(gAvg, g, (ai, gi) => alpha * ai + (1 - alpha) * gi);
      avg = map2(v, gAvg, (vi, ai) => Math.sqrt(vi - ai * ai) + eps);
    } else {
      avg = v.map((vi) => Math.sqrt(vi) + eps);
    }
    const ratio = map2(g, avg, (gi, ai) => gi / ai);
    if (momentum > 0) {
      buf = map2(buf, ratio, (bi, ri) => momentum * bi + ri);
      p = map2(p, buf, (pi, bi) => pi - lr * bi);
    } else {
      p = map2(p, ratio, (pi, ri) => pi - lr * ri);
    }
    return p;
  });
}

/**
 * torch.optim.Adam / AdamW (t counts from 1):
 *   AdamW: p = p * (1 - lr * wd)          Adam: g = grad + wd * p
 *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
 *   amsgrad: vMax = max(vMax, v), used in place of v
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
function refAdam(p: Vec, grads: Vec[], o: { lr: number; betas?: [number, number]; eps?: number; wd?: number; amsgrad?: boolean; decoupled?: boolean }): Vec[] {
  const { lr, betas: [b1, b2] = [0.9, 0.999], eps = 1e-8, wd = 0, amsgrad = false, decoupled = false } = o;
  let m = p.map(() => 0), v = p.map(() => 0), vMax = p.map(() => 0);
  return grads.map((grad, k) => {
    const t = k + 1;
    let g = grad;
    if (decoupled) p = p.map((pi) => pi * (1 - lr * wd));
    else g = map2(grad, p, (gi, pi) => gi + wd * pi);
    m = map2(m, g, (mi, gi) => b1 * mi + (1 - b1) * gi);
    v = map2(v, g, (vi, gi) => b2 * vi + (1 - b2) * gi * gi);
    vMax = map2(vMax, v, Math.max);
    const second = amsgrad ? vMax : v;
    const stepSize = lr / (1 - b1 ** t);
    const denom = second.map((si) => Math.sqrt(si) / Math.sqrt(1 - b2 ** t) + eps);
    p = p.map((pi, i) => pi - stepSize * m[i] / denom[i]);
    return p;
  });
}

describe('SGD', () => {
  // Hand-worked, lr 0.1, p = [1, 2], constant grad [0.5, -1]:
  it('plain: p -= lr * g', () => {
    // [1 - 0.05k, 2 + 0.1k]
    const p = param([1, 2]);
    expectSteps(run(new SGD([p], { lr: 0.1 }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]), [[0.95, 2.1], [0.9, 2.2], [0.85, 2.3]], 'sgd');
  });

  it('momentum 0.9: the first buffer is the gradient itself', () => {
    // b1 = g = [0.5, -1]          p = [0.95, 2.1]
    // b2 = 0.9 b1 + g = [0.95, -1.9]   p = [0.855, 2.29]
    // b3 = 0.9 b2 + g = [1.355, -2.71] p = [0.7195, 2.561]
    const p = param([1, 2]);
    expectSteps(run(new SGD([p], { lr: 0.1, momentum: 0.9 }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]),
      [[0.95, 2.1], [0.855, 2.29], [0.7195, 2.561]], 'momentum');
  });

  it('dampening 0.5 applies from the second step on', () => {
    // b1 = g = [0.5, -1] (undamped)             p = [0.95, 2.1]
    // b2 = 0.9 b1 + 0.5 g = [0.7, -1.4]          p = [0.88, 2.24]
    // b3 = 0.9 b2 + 0.5 g = [0.88, -1.76]        p = [0.792, 2.416]
    const p = param([1, 2]);
    expectSteps(run(new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]),
      [[0.95, 2.1], [0.88, 2.24], [0.792, 2.416]], 'dampening');
  });

  it('nesterov: step along g + momentum * b', () => {
    // b1 = [0.5, -1];     d = g + 0.9 b1 = [0.95, -1.9]     p = [0.905, 2.19]
    // b2 = [0.95, -1.9];  d = [1.355, -2.71]                p = [0.7695, 2.461]
    // b3 = [1.355, -2.71]; d = [1.7195, -3.439]             p = [0.59755, 2.8049]
    const p = param([1, 2]);
    expectSteps(run(new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]),
      [[0.905, 2.19], [0.7695, 2.461], [0.59755, 2.8049]], 'nesterov');
  });

  it('weight decay adds wd * p to the gradient', () => {
    // lr 0.1, wd 0.5, p = [1, 2], grad 0: p *= 1 - 0.05 each step.
    const p = param([1, 2]);
    expectSteps(run(new SGD([p], { lr: 0.1, weightDecay: 0.5 }), p, [[0, 0], [0, 0], [0, 0]]),
      [[0.95, 1.9], [0.9025, 1.805], [0.857375, 1.71475]], 'weight decay');
  });

  it('matches the float64 reference for every combination', () => {
    const combos = [
      { lr: 0.1 }, { lr: 0.1, momentum: 0.9 }, { lr: 0.05, momentum: 0.8, dampening: 0.3, wd: 0.1 },
      { lr: 0.1, momentum: 0.9, nesterov: true, wd: 0.01 }, { lr: 0.2, wd: 0.3 },
    ];
    for (const c of combos) {
      const p = param(P0);
      const opt = new SGD([p], { lr: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov, weightDecay: c.wd });
      expectSteps(run(opt, p, GRADS), refSGD(P0, GRADS, c), `SGD ${JSON.stringify(c)}`);
    }
  });
});

describe('RMSprop', () => {
  it('first step moves each weight by 10 * lr * sign(g) (alpha 0.99: sqrt(v) = 0.1 |g|)', () => {
    const p = param([1, -2]);
    expectSteps(run(new RMSprop([p], { lr: 0.01 }), p, [[0.5, -3]]), [[0.9, -1.9]], 'rmsprop step 1');
  });

  it('matches the float64 reference, including centered + momentum + weight decay', () => {
    const combos = [
      { lr: 0.01 }, { lr: 0.01, alpha: 0.9 }, { lr: 0.01, momentum: 0.9 }, { lr: 0.01, centered: true },
      { lr: 0.02, alpha: 0.8, centered: true, momentum: 0.5, wd: 0.1, eps: 1e-6 },
    ];
    for (const c of combos) {
      const p = param(P0);
      const opt = new RMSprop([p], { lr: c.lr, alpha: c.alpha, eps: c.eps, weightDecay: c.wd, momentum: c.momentum, centered: c.centered });
      expectSteps(run(opt, p, GRADS), refRMSprop(P0, GRADS, c), `RMSprop ${JSON.stringify(c)}`);
    }
  });
});

describe('Adam and AdamW', () => {
  it('bias correction: with a constant gradient each step moves lr * sign(g)', () => {
    // m_t / (1 - 0.9^t) = g and v_t / (1 - 0.999^t) = g^2 exactly, so the step is lr * g / (|g| + eps).
    // Without bias correction step 1 would be 0.1 * 0.05 / sqrt(0.00025) = 0.316.
    const p = param([1, 2]);
    expectSteps(run(new Adam([p], { lr: 0.1 }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]), [[0.9, 2.1], [0.8, 2.2], [0.7, 2.3]], 'adam');
  });

  it('AdamW decays decoupled from the gradient: p = p (1 - lr wd) - lr sign(g)', () => {
    // lr 0.1, wd 0.1: p *= 0.99 then moves 0.1 against the gradient.
    // [0.99 - 0.1, 1.98 + 0.1] = [0.89, 2.08]; [0.7811, 2.1592]; [0.673289, 2.237608]
    const p = param([1, 2]);
    expectSteps(run(new AdamW([p], { lr: 0.1, weightDecay: 0.1 }), p, [[0.5, -1], [0.5, -1], [0.5, -1]]),
      [[0.89, 2.08], [0.7811, 2.1592], [0.673289, 2.237608]], 'adamw');
  });

  it('AdamW defaults to weight decay 0.01, Adam to 0', () => {
    expect(new AdamW([param([1])]).weightDecay).toBe(0.01);
    expect(new Adam([param([1])]).weightDecay).toBe(0);
    expect(new Adam([param([1])]).betas).toEqual([0.9, 0.999]);
  });

  it('amsgrad keeps the largest second moment', () => {
    // A large gradient then small ones: vMax stays at the first v, so later steps are smaller than plain Adam's.
    const grads = [[1, -1], [0.01, 0.01], [0.01, 0.01]];
    const p = param([0, 0]);
    const ams = run(new Adam([p], { lr: 0.1, amsgrad: true }), p, grads);
    expectSteps(ams, refAdam([0, 0], grads, { lr: 0.1, amsgrad: true }), 'amsgrad');
    const q = param([0, 0]);
    const plain = run(new Adam([q], { lr: 0.1 }), q, grads);
    expect(Math.abs(ams[2][0] - ams[1][0])).toBeLessThan(Math.abs(plain[2][0] - plain[1][0]));
  });

  it('matches the float64 reference for every combination', () => {
    const combos = [
      { lr: 0.01 }, { lr: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-6 }, { lr: 0.01, wd: 0.1 },
      { lr: 0.01, amsgrad: true, wd: 0.05 }, { lr: 0.01, wd: 0.1, decoupled: true }, { lr: 0.02, wd: 0.2, decoupled: true, amsgrad: true },
    ];
    for (const c of combos) {
      const p = param(P0);
      const options = { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.wd ?? 0, amsgrad: c.amsgrad };
      const opt = c.decoupled ? new AdamW([p], options) : new Adam([p], options);
      expectSteps(run(opt, p, GRADS), refAdam(P0, GRADS, c), `Adam ${JSON.stringify(c)}`);
    }
  });
});

describe('shared behaviour', () => {
  const makers: [string, (ps: Tensor[]) => Optimizer][] = [
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['RMSprop centered momentum', (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.9, centered: true })],
    ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];

  for (const [name, make] of makers) {
    it(`${name}: skips params whose grad is null, and keeps no state for them`, () => {
      const a = param([1, 2]);
      const b = param([3, 4]);
      const opt = make([a, b]);
      setGrad(a, [0.5, -1]);
      opt.step();
      opt.step();
      expect(Array.from(b.data)).toEqual([3, 4]);
      expect(opt.stateDict().state[1]).toBeNull();
      expect(opt.stateDict().state[0]?.step).toBe(2);
      // b's first update is a first step of its own (step count 1), not the optimizer's third.
      setGrad(b, [0.5, -1]);
      const fresh = param([3, 4]);
      const solo = make([fresh]);
      setGrad(fresh, [0.5, -1]);
      solo.step();
      a.grad = null;
      opt.step();
      expect(Array.from(b.data)).toEqual(Array.from(fresh.data));
    });

    it(`${name}: a fresh optimizer loaded from stateDict (through JSON) continues identically`, () => {
      const p = param(P0);
      const opt = make([p]);
      run(opt, p, GRADS.slice(0, 2));
      opt.lr = opt.lr * 0.5; // a scheduled lr is part of the checkpoint
      const saved = JSON.parse(JSON.stringify(opt.stateDict()));
      const q = param(Array.from(p.data));
      const resumed = make([q]);
      resumed.loadStateDict(saved);
      expect(resumed.lr).toBe(opt.lr);
      const more = [GRADS[2], GRADS[0], GRADS[1]];
      expect(run(resumed, q, more)).toEqual(run(opt, p, more));
    });
  }

  it('stateDict holds plain arrays, copied, named per algorithm', () => {
    const p = param([1, 2]);
    const opt = new RMSprop([p], { momentum: 0.9, centered: true });
    setGrad(p, [1, 1]);
    opt.step();
    const dict = opt.stateDict();
    expect(Object.keys(dict.state[0]!.buffers).sort()).toEqual(['gradAvg', 'momentumBuffer', 'squareAvg']);
    expect(Array.isArray(dict.state[0]!.buffers.squareAvg)).toBe(true);
    dict.state[0]!.buffers.squareAvg[0] = 99;
    expect(opt.stateDict().state[0]!.buffers.squareAvg[0]).not.toBe(99);
    expect(Object.keys(new SGD([p], { lr: 0.1 }).stateDict())).toEqual(['lr', 'state']);
  });

  it('loadStateDict rejects mismatched dicts and changes nothing', () => {
    const p = param([1, 2]);
    const adam = new Adam([p]);
    setGrad(p, [1, 1]);
    adam.step();
    const dict = adam.stateDict();
    const other = new Adam([param([1, 2]), param([3])]);
    expect(() => other.loadStateDict(dict)).toThrow(/^Adam\.loadStateDict: dict has state for 1 parameters but this optimizer has 2$/);
    expect(() => new Adam([param([1, 2])], { amsgrad: true }).loadStateDict(dict)).toThrow(/has buffers \[expAvg, expAvgSq\] but .*need \[expAvg, expAvgSq, maxExpAvgSq\]/);
    expect(() => new Adam([param([1, 2, 3])]).loadStateDict(dict)).toThrow(/buffers\.expAvg must be an array of 3 numbers/);
    expect(() => adam.loadStateDict(any(null))).toThrow(TypeError);
    const target = new Adam([param([1, 2])], { lr: 0.5 });
    expect(() => target.loadStateDict({ ...dict, lr: -1 })).toThrow(/^Adam: lr must be >= 0, got -1$/);
    expect(target.lr).toBe(0.5);
    expect(target.stateDict().state).toEqual([null]);
  });

  it('zeroGrad sets every grad to null', () => {
    const a = param([1]);
    const b = param([2]);
    const opt = new SGD([a, b], { lr: 0.1 });
    setGrad(a, [1]);
    setGrad(b, [1]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    expect(b.grad).toBeNull();
    opt.step(); // nothing to do
    expect(Array.from(a.data)).toEqual([1]);
  });

  it('lr is mutable and takes effect on the next step', () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.lr = 1;
    setGrad(p, [0.5]);
    opt.step();
    expect(p.data[0]).toBeCloseTo(0.5, 7);
    expect(() => { opt.lr = -0.1; }).toThrow(/^SGD: lr must be >= 0, got -0\.1$/);
    expect(opt.lr).toBe(1);
  });

  it('accepts any iterable of parameters, such as a generator', () => {
    const a = param([1]);
    const b = param([2]);
    function* params() { yield a; yield b; }
    expect(new Adam(params()).params).toEqual([a, b]);
  });
});

describe('option and parameter validation', () => {
  const p = () => param([1, 2]);
  type Case = [name: string, fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: RegExp];
  const cases: Case[] = [
    ['negative lr', () => new SGD([p()], { lr: -1 }), RangeError, /^SGD: lr must be >= 0, got -1$/],
    ['lr not a number', () => new Adam([p()], any({ lr: '0.1' })), TypeError, /^Adam: lr must be a number/],
    ['lr NaN', () => new RMSprop([p()], { lr: NaN }), RangeError, /^RMSprop: lr must be finite/],
    ['negative momentum', () => new SGD([p()], { lr: 0.1, momentum: -0.5 }), RangeError, /^SGD: momentum must be >= 0, got -0\.5$/],
    ['nesterov without momentum', () => new SGD([p()], { lr: 0.1, nesterov: true }), RangeError, /^SGD: nesterov needs momentum > 0 and dampening 0, got momentum=0, dampening=0$/],
    ['nesterov with dampening', () => new SGD([p()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError, /^SGD: nesterov needs/],
    ['nesterov not boolean', () => new SGD([p()], any({ momentum: 0.9, nesterov: 1 })), TypeError, /^SGD: nesterov must be a boolean/],
    ['negative weight decay', () => new SGD([p()], { weightDecay: -1 }), RangeError, /^SGD: weightDecay must be >= 0/],
    ['unknown option', () => new SGD([p()], any({ learningRate: 0.1 })), TypeError, /^SGD: unknown option 'learningRate'/],
    ['snake-case option', () => new Adam([p()], any({ weight_decay: 0.1 })), TypeError, /^Adam: unknown option 'weight_decay'/],
    ['beta1 = 1', () => new Adam([p()], { betas: [1, 0.999] }), RangeError, /^Adam: betas\[0\] must be in \[0, 1\), got 1$/],
    ['beta2 < 0', () => new AdamW([p()], { betas: [0.9, -0.1] }), RangeError, /^AdamW: betas\[1\] must be in \[0, 1\), got -0\.1$/],
    ['betas not a pair', () => new Adam([p()], any({ betas: 0.9 })), TypeError, /^Adam: betas must be an array \[beta1, beta2\]/],
    ['betas with a hole', () => new Adam([p()], any({ betas: [0.9, undefined] })), TypeError, /^Adam: betas\[1\] must be a number/],
    ['eps 0', () => new Adam([p()], { eps: 0 }), RangeError, /^Adam: eps must be > 0, got 0$/],
    ['RMSprop eps negative', () => new RMSprop([p()], { eps: -1e-8 }), RangeError, /^RMSprop: eps must be > 0/],
    ['RMSprop alpha > 1', () => new RMSprop([p()], { alpha: 1.5 }), RangeError, /^RMSprop: alpha must be in \[0, 1\], got 1\.5$/],
    ['RMSprop centered not boolean', () => new RMSprop([p()], any({ centered: 'yes' })), TypeError, /^RMSprop: centered must be a boolean/],
    ['options not an object', () => new Adam([p()], any(0.1)), TypeError, /^Adam: options must be an object/],
    ['params a single tensor', () => new SGD(any(p()), { lr: 0.1 }), TypeError, /^SGD: params must be an iterable of Tensors/],
    ['params empty', () => new SGD([], { lr: 0.1 }), RangeError, /^SGD: params is empty/],
    ['param not a tensor', () => new Adam(any([p(), [1, 2]])), TypeError, /^Adam: params\[1\] must be a Tensor, got array/],
    ['param without requiresGrad', () => new Adam([tensor([1], [1])]), RangeError, /^Adam: params\[0\] \[1\] does not require grad/],
    ['param twice', () => { const q = p(); return new Adam([q, q]); }, RangeError, /^Adam: params\[1\] is the same tensor as params\[0\]/],
    ['param not a leaf', () => new Adam([linear(tensor([1, 2], [1, 2], { requiresGrad: true }), tensor([1, 1], [1, 2]))]), RangeError, /^Adam: params\[0\] \[1,1\] is the result of an op, not a leaf/],
    ['StepLR without stepSize', () => new StepLR(new SGD([p()]), any({})), TypeError, /^StepLR: stepSize is required/],
    ['StepLR stepSize 0', () => new StepLR(new SGD([p()]), { stepSize: 0 }), RangeError, /^StepLR: stepSize must be a positive integer, got 0$/],
    ['StepLR negative gamma', () => new StepLR(new SGD([p()]), { stepSize: 1, gamma: -1 }), RangeError, /^StepLR: gamma must be >= 0/],
    ['StepLR without optimizer', () => new StepLR(any({ lr: 1 }), { stepSize: 1 }), TypeError, /^StepLR: optimizer must be an Optimizer/],
    ['Cosine tMax 0', () => new CosineAnnealingLR(new SGD([p()]), { tMax: 0 }), RangeError, /^CosineAnnealingLR: tMax must be a positive integer/],
    ['Cosine negative etaMin', () => new CosineAnnealingLR(new SGD([p()]), { tMax: 5, etaMin: -1 }), RangeError, /^CosineAnnealingLR: etaMin must be >= 0/],
  ];
  for (const [name, fn, cls, message] of cases) {
    it(name, () => {
      expect(fn).toThrow(cls);
      expect(fn).toThrow(message);
    });
  }

  it('step rejects a gradient of the wrong size', () => {
    const q = param([1, 2]);
    const opt = new SGD([q], { lr: 0.1 });
    q.grad = tensor([1, 2, 3], [3]);
    expect(() => opt.step()).toThrow(/^SGD\.step: params\[0\] has shape \[2\] but its grad has shape \[3\]$/);
  });
});

describe('schedulers', () => {
  it('StepLR(stepSize 2, gamma 0.5) from lr 1: 1, 1, 0.5, 0.5, 0.25, and sets optimizer.lr', () => {
    const opt = new SGD([param([1])], { lr: 1 });
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    const seen = [sched.getLastLr()];
    const set = [opt.lr];
    for (let e = 0; e < 4; e++) { sched.step(); seen.push(sched.getLastLr()); set.push(opt.lr); }
    expect(seen).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(set).toEqual(seen);
    expect(new StepLR(new SGD([param([1])], { lr: 1 }), { stepSize: 1 }).gamma).toBe(0.1);
  });

  it('CosineAnnealingLR follows etaMin + (base - etaMin)(1 + cos(pi e / tMax)) / 2', () => {
    const opt = new Adam([param([1])], { lr: 0.1 });
    const sched = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 });
    for (let e = 0; e <= 10; e++) {
      const expected = 0.001 + (0.1 - 0.001) * (1 + Math.cos(Math.PI * e / 10)) / 2;
      expect(sched.getLastLr()).toBeCloseTo(expected, 12);
      expect(opt.lr).toBeCloseTo(expected, 12);
      sched.step();
    }
    // Hand values for base 1, tMax 4, etaMin 0: 1, (1 + 1/sqrt 2)/2, 0.5, (1 - 1/sqrt 2)/2, 0.
    const s2 = new CosineAnnealingLR(new SGD([param([1])], { lr: 1 }), { tMax: 4 });
    const lrs = [s2.getLastLr()];
    for (let e = 0; e < 4; e++) { s2.step(); lrs.push(s2.getLastLr()); }
    expectClose(lrs, [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0], 'cosine tMax 4', 1e-12, 1e-15);
  });

  it('a scheduler resumes from its stateDict', () => {
    const opt = new SGD([param([1])], { lr: 1 });
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    for (let e = 0; e < 3; e++) sched.step();
    const opt2 = new SGD([param([1])], { lr: 1 });
    const sched2 = new StepLR(opt2, { stepSize: 2, gamma: 0.5 });
    sched2.loadStateDict(JSON.parse(JSON.stringify(sched.stateDict())));
    expect(opt2.lr).toBe(0.5);
    sched.step();
    sched2.step();
    expect(sched2.getLastLr()).toBe(sched.getLastLr());
    expect(opt2.lr).toBe(0.25);
  });
});

describe('end to end: minimise sum((w - target)^2)', () => {
  const target = [0.5, -1.5, 2, 0.25];
  const n = target.length;
  // Built from convkit ops: d = w I^T + (-target) via linear, loss = d d^T via matmul.
  const eye = tensor(Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)), [n, n]);
  const negTarget = tensor(target.map((t) => -t), [n]);
  const lossOf = (w: Tensor) => {
    const d = linear(w, eye, negTarget);
    return matmul(d, reshape(d, [n, 1]));
  };

  const cases: [string, (w: Tensor) => Optimizer, number, number][] = [
    ['SGD', (w) => new SGD([w], { lr: 0.1 }), 100, 1e-4],
    ['SGD momentum', (w) => new SGD([w], { lr: 0.05, momentum: 0.9 }), 200, 1e-4],
    ['SGD nesterov', (w) => new SGD([w], { lr: 0.05, momentum: 0.9, nesterov: true }), 200, 1e-4],
    ['RMSprop', (w) => new RMSprop([w], { lr: 0.01 }), 600, 1e-2],
    ['RMSprop centered momentum', (w) => new RMSprop([w], { lr: 0.01, momentum: 0.5, centered: true }), 600, 1e-2],
    ['Adam', (w) => new Adam([w], { lr: 0.05 }), 600, 1e-2],
    ['Adam amsgrad', (w) => new Adam([w], { lr: 0.05, amsgrad: true }), 600, 1e-2],
    ['AdamW', (w) => new AdamW([w], { lr: 0.05, weightDecay: 1e-4 }), 600, 1e-2],
  ];

  it('the autograd gradient is 2 (w - target)', () => {
    const w = tensor([0, 0, 0, 0], [1, n], { requiresGrad: true });
    lossOf(w).backward();
    expectClose(w.grad!.data, target.map((t) => -2 * t), 'grad');
  });

  for (const [name, make, steps, tolerance] of cases) {
    it(`${name} converges (with cosine annealing)`, () => {
      const w = tensor([0, 0, 0, 0], [1, n], { requiresGrad: true });
      const opt = make(w);
      const sched = new CosineAnnealingLR(opt, { tMax: steps });
      const initial = lossOf(w).item();
      for (let s = 0; s < steps; s++) {
        opt.zeroGrad();
        lossOf(w).backward();
        opt.step();
        sched.step();
      }
      const final = lossOf(w).item();
      expect(final, `${name}: loss ${initial} -> ${final}`).toBeLessThan(tolerance * tolerance);
      expectClose(w.data, target, name, 0, tolerance);
    });
  }
});
