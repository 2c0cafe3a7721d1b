// Initializers: the statistics of each draw against its theoretical mean and variance on a
// large tensor, PyTorch's fans and gains, seeded repeatability, and bad arguments.
import { describe, expect, it } from 'vitest';
import { tensor, Tensor } from '../lib/index.js';
import { Generator, manualSeed } from '../lib/random.js';
import {
  calculateGain, constant, fans, initializerByName, INIT_NAMES, kaimingNormal, kaimingUniform, lecunNormal, normal, ones,
  uniform, xavierNormal, xavierUniform, zeros,
} from '../lib/init/index.js';
import type { InitName } from '../lib/init/index.js';

const any = (v: unknown) => v as never;
const empty = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

// [128, 256, 3, 3]: 294,912 weights, fanIn = 256*9 = 2304, fanOut = 128*9 = 1152 (unequal, so
// fanIn and fanOut modes give different variances).
const BIG = [128, 256, 3, 3];
const FAN_IN = 2304;
const FAN_OUT = 1152;

function moments(d: Float32Array): { mean: number; variance: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (const x of d) { s += x; min = Math.min(min, x); max = Math.max(max, x); }
  const mean = s / d.length;
  let s2 = 0;
  for (const x of d) s2 += (x - mean) ** 2;
  return { mean, variance: s2 / d.length, min, max };
}

/**
 * Mean within 5 standard errors of `mean`, variance within 2% of `variance` (the standard
 * error of a sample variance over ~3e5 draws is ~0.26% for a normal, less for a uniform).
 */
function expectMoments(t: Tensor, mean: number, variance: number, label: string): void {
  const m = moments(t.data);
  expect(Math.abs(m.mean - mean), `${label}: mean ${m.mean}, expected ${mean}`).toBeLessThan(5 * Math.sqrt(variance / t.size) + 1e-7);
  expect(Math.abs(m.variance / variance - 1), `${label}: variance ${m.variance}, expected ${variance}`).toBeLessThan(0.02);
}

/** Uniform in [-bound, bound): variance bound^2/3, and the extremes reach the bound. */
function expectSymmetricUniform(t: Tensor, bound: number, label: string): void {
  expectMoments(t, 0, bound * bound / 3, label);
  const m = moments(t.data);
  expect(m.min, label).toBeGreaterThanOrEqual(-bound);
  expect(m.max, label).toBeLessThanOrEqual(bound);
  expect(m.min, label).toBeLessThan(-0.999 * bound);
  expect(m.max, label).toBeGreaterThan(0.999 * bound);
}

describe('fans', () => {
  it('matches PyTorch for linear and conv weights', () => {
    expect(fans([10, 20])).toEqual({ fanIn: 20, fanOut: 10 }); // linear [out, in]
    expect(fans([6, 1, 5, 5])).toEqual({ fanIn: 25, fanOut: 150 }); // LeNet C1
    expect(fans([16, 6, 5, 5])).toEqual({ fanIn: 150, fanOut: 400 }); // LeNet C3
    expect(fans(BIG)).toEqual({ fanIn: FAN_IN, fanOut: FAN_OUT });
    expect(fans([4, 2, 3])).toEqual({ fanIn: 6, fanOut: 12 }); // conv1d
    expect(fans([4, 2, 3, 3, 3])).toEqual({ fanIn: 54, fanOut: 108 }); // conv3d
  });

  it('rejects shapes with fewer than 2 dims', () => {
    expect(() => fans([5])).toThrow(RangeError);
    expect(() => fans([5])).toThrow(/^init\.fans: .*at least 2 dims.*got shape \[5\]/);
    expect(() => fans([])).toThrow(RangeError);
    expect(() => fans(any('3x3'))).toThrow(TypeError);
    expect(() => kaimingNormal(empty([7]))).toThrow(/^init\.fans: /);
  });
});

describe('calculateGain', () => {
  it('gives PyTorch values', () => {
    for (const n of ['linear', 'conv1d', 'conv2d', 'sigmoid'] as const) expect(calculateGain(n)).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(calculateGain('relu')).toBeCloseTo(Math.sqrt(2), 15);
    expect(calculateGain('selu')).toBe(0.75);
    expect(calculateGain('leakyRelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(calculateGain('leakyRelu', 0)).toBeCloseTo(Math.sqrt(2), 15);
    expect(calculateGain('relu', 0.5)).toBeCloseTo(Math.sqrt(2), 15); // param only matters for leakyRelu
  });

  it('rejects unknown nonlinearities and bad slopes', () => {
    expect(() => calculateGain(any('leaky_relu'))).toThrow(RangeError);
    expect(() => calculateGain(any('leaky_relu'))).toThrow(/^init\.calculateGain: nonlinearity must be one of 'linear', .*'selu', got 'leaky_relu'$/);
    expect(() => calculateGain(any(3))).toThrow(TypeError);
    expect(() => calculateGain('leakyRelu', any('0.1'))).toThrow(TypeError);
    expect(() => calculateGain('leakyRelu', NaN)).toThrow(RangeError);
  });
});

describe('constant fills', () => {
  it('zeros, ones and constant fill in place and return the tensor', () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    expect(zeros(t)).toBe(t);
    expect(Array.from(t.data)).toEqual([0, 0, 0, 0]);
    expect(ones(t)).toBe(t);
    expect(Array.from(t.data)).toEqual([1, 1, 1, 1]);
    expect(constant(t, 0.5)).toBe(t);
    expect(Array.from(t.data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});

describe('random initializers: statistics on a [128,256,3,3] weight', () => {
  it('uniform(a, b): mean (a+b)/2, variance (b-a)^2/12, within [a, b)', () => {
    const t = uniform(empty(BIG), -1, 3);
    expectMoments(t, 1, 16 / 12, 'uniform(-1, 3)');
    const m = moments(t.data);
    expect(m.min).toBeGreaterThanOrEqual(-1);
    expect(m.max).toBeLessThanOrEqual(3);
    expectMoments(uniform(empty(BIG)), 0.5, 1 / 12, 'uniform() defaults to [0, 1)');
  });

  it('normal(mean, std)', () => {
    expectMoments(normal(empty(BIG), 2, 0.5), 2, 0.25, 'normal(2, 0.5)');
    expectMoments(normal(empty(BIG)), 0, 1, 'normal() defaults to N(0, 1)');
    const t = normal(empty([3, 3]), 4, 0);
    expect(Array.from(t.data)).toEqual(new Array(9).fill(4));
  });

  it('xavierUniform: bound = gain * sqrt(6 / (fanIn + fanOut))', () => {
    expectSymmetricUniform(xavierUniform(empty(BIG)), Math.sqrt(6 / (FAN_IN + FAN_OUT)), 'xavierUniform');
    expectSymmetricUniform(xavierUniform(empty(BIG), { gain: 5 / 3 }), (5 / 3) * Math.sqrt(6 / (FAN_IN + FAN_OUT)), 'xavierUniform gain 5/3');
  });

  it('xavierNormal: std = gain * sqrt(2 / (fanIn + fanOut))', () => {
    expectMoments(xavierNormal(empty(BIG)), 0, 2 / (FAN_IN + FAN_OUT), 'xavierNormal');
    expectMoments(xavierNormal(empty(BIG), { gain: 2 }), 0, 4 * 2 / (FAN_IN + FAN_OUT), 'xavierNormal gain 2');
  });

  it('kaimingNormal: std = gain / sqrt(fan) for each mode and nonlinearity', () => {
    // Default: leakyRelu with a = 0, i.e. relu's gain sqrt(2), fanIn.
    expectMoments(kaimingNormal(empty(BIG)), 0, 2 / FAN_IN, 'kaimingNormal defaults');
    expectMoments(kaimingNormal(empty(BIG), { mode: 'fanOut' }), 0, 2 / FAN_OUT, 'kaimingNormal fanOut');
    expectMoments(kaimingNormal(empty(BIG), { nonlinearity: 'relu', mode: 'fanIn' }), 0, 2 / FAN_IN, 'kaimingNormal relu');
    expectMoments(kaimingNormal(empty(BIG), { a: 0.2 }), 0, 2 / (1 + 0.04) / FAN_IN, 'kaimingNormal leakyRelu a=0.2');
    expectMoments(kaimingNormal(empty(BIG), { nonlinearity: 'tanh', mode: 'fanOut' }), 0, (25 / 9) / FAN_OUT, 'kaimingNormal tanh fanOut');
    expectMoments(kaimingNormal(empty(BIG), { nonlinearity: 'linear' }), 0, 1 / FAN_IN, 'kaimingNormal linear');
  });

  it('kaimingUniform: bound = sqrt(3) * gain / sqrt(fan)', () => {
    expectSymmetricUniform(kaimingUniform(empty(BIG)), Math.sqrt(6 / FAN_IN), 'kaimingUniform defaults');
    expectSymmetricUniform(kaimingUniform(empty(BIG), { mode: 'fanOut' }), Math.sqrt(6 / FAN_OUT), 'kaimingUniform fanOut');
    // PyTorch's nn.Linear / Conv2d default: kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fanIn).
    expectSymmetricUniform(kaimingUniform(empty(BIG), { a: Math.sqrt(5) }), 1 / Math.sqrt(FAN_IN), 'kaimingUniform a=sqrt(5)');
    expectSymmetricUniform(kaimingUniform(empty(BIG), { nonlinearity: 'selu' }), Math.sqrt(3) * 0.75 / Math.sqrt(FAN_IN), 'kaimingUniform selu');
  });

  it('lecunNormal: std = 1 / sqrt(fanIn)', () => {
    expectMoments(lecunNormal(empty(BIG)), 0, 1 / FAN_IN, 'lecunNormal');
  });

  it('works on linear weights and returns the same tensor', () => {
    const w = empty([512, 1024]);
    expect(kaimingNormal(w)).toBe(w);
    expectMoments(w, 0, 2 / 1024, 'kaimingNormal [512,1024]');
  });
});

describe('seeding', () => {
  it('manualSeed makes draws repeat; an explicit generator gives the same sequence and leaves the global one alone', () => {
    const draw = () => kaimingNormal(empty([16, 6, 5, 5])).toArray();
    manualSeed(123);
    const first = draw();
    const next = draw();
    manualSeed(123);
    expect(draw()).toEqual(first);
    expect(next).not.toEqual(first);

    manualSeed(123);
    const g = new Generator(123);
    const withGenerator = kaimingNormal(empty([16, 6, 5, 5]), { generator: g }).toArray();
    expect(withGenerator).toEqual(first);
    expect(draw()).toEqual(first); // the global generator was not advanced
  });

  it('every random initializer takes a generator', () => {
    const runs = (seed: number) => {
      const g = new Generator(seed);
      const shape = [4, 3, 2, 2];
      return [
        uniform(empty(shape), -1, 1, { generator: g }), normal(empty(shape), 0, 1, { generator: g }),
        xavierUniform(empty(shape), { generator: g }), xavierNormal(empty(shape), { generator: g }),
        kaimingUniform(empty(shape), { generator: g }), kaimingNormal(empty(shape), { generator: g }),
        lecunNormal(empty(shape), { generator: g }),
      ].map((t) => Array.from(t.data));
    };
    expect(runs(9)).toEqual(runs(9));
    expect(runs(9)).not.toEqual(runs(10));
  });
});

describe('initializerByName', () => {
  it('returns each initializer with its defaults', () => {
    expect([...INIT_NAMES].sort()).toEqual(
      ['kaimingNormal', 'kaimingUniform', 'lecunNormal', 'normal', 'ones', 'uniform', 'xavierNormal', 'xavierUniform', 'zeros'],
    );
    manualSeed(5);
    const byName = initializerByName('kaimingNormal')(empty([16, 6, 5, 5])).toArray();
    manualSeed(5);
    expect(byName).toEqual(kaimingNormal(empty([16, 6, 5, 5])).toArray());
    expect(Array.from(initializerByName('ones')(empty([2, 2])).data)).toEqual([1, 1, 1, 1]);
    expectMoments(initializerByName('xavierUniform')(empty(BIG)), 0, 2 / (FAN_IN + FAN_OUT), 'xavierUniform by name');
    for (const name of INIT_NAMES) {
      const t = empty([8, 4, 3, 3]);
      expect(initializerByName(name)(t), name).toBe(t);
    }
  });

  it('rejects unknown names, listing the valid ones', () => {
    expect(() => initializerByName(any('he'))).toThrow(RangeError);
    expect(() => initializerByName(any('he'))).toThrow(/^initializerByName: unknown initializer 'he' \(expected one of 'zeros', 'ones', .*'normal'\)$/);
    expect(() => initializerByName(any('toString'))).toThrow(RangeError);
    expect(() => initializerByName(any(undefined))).toThrow(TypeError);
  });
});

describe('bad arguments', () => {
  const t = empty([4, 4]);
  type Case = [name: string, fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: RegExp];
  const cases: Case[] = [
    ['zeros: not a tensor', () => zeros(any([1, 2])), TypeError, /^init\.zeros: tensor must be a Tensor, got array/],
    ['constant: no value', () => constant(t, any(undefined)), TypeError, /^init\.constant: value must be a number/],
    ['constant: string value', () => constant(t, any('1')), TypeError, /^init\.constant: value must be a number, got string/],
    ['uniform: a > b', () => uniform(t, 2, 1), RangeError, /^init\.uniform: a must be <= b, got a=2, b=1$/],
    ['uniform: a NaN', () => uniform(t, NaN, 1), RangeError, /^init\.uniform: a must be finite, got NaN$/],
    ['uniform: b string', () => uniform(t, 0, any('1')), TypeError, /^init\.uniform: b must be a number/],
    ['uniform: unknown option', () => uniform(t, 0, 1, any({ seed: 1 })), TypeError, /^init\.uniform: unknown option 'seed'/],
    ['uniform: bad generator', () => uniform(t, 0, 1, any({ generator: Math.random })), TypeError, /^init\.uniform: generator must be a Generator/],
    ['normal: negative std', () => normal(t, 0, -1), RangeError, /^init\.normal: std must be >= 0, got -1$/],
    ['normal: infinite mean', () => normal(t, Infinity), RangeError, /^init\.normal: mean must be finite/],
    ['xavierUniform: negative gain', () => xavierUniform(t, { gain: -1 }), RangeError, /^init\.xavierUniform: gain must be >= 0, got -1$/],
    ['xavierNormal: options not an object', () => xavierNormal(t, any(2)), TypeError, /^init\.xavierNormal: options must be an object/],
    ['xavierNormal: 1-d', () => xavierNormal(empty([9])), RangeError, /^init\.fans: .*got shape \[9\]/],
    ['kaimingNormal: snake-case mode', () => kaimingNormal(t, any({ mode: 'fan_in' })), RangeError,
      /^init\.kaimingNormal: mode must be 'fanIn' or 'fanOut', got 'fan_in'$/],
    ['kaimingUniform: mode not a string', () => kaimingUniform(t, any({ mode: 1 })), TypeError, /^init\.kaimingUniform: mode must be 'fanIn' or 'fanOut', got 1$/],
    ['kaimingUniform: bad nonlinearity', () => kaimingUniform(t, any({ nonlinearity: 'gelu' })), RangeError,
      /^init\.kaimingUniform: nonlinearity must be one of .*got 'gelu'$/],
    ['kaimingNormal: a string', () => kaimingNormal(t, any({ a: 'x' })), TypeError, /^init\.kaimingNormal: a must be a number/],
    ['kaimingNormal: unknown option', () => kaimingNormal(t, any({ fanMode: 'fanIn' })), TypeError, /^init\.kaimingNormal: unknown option 'fanMode'/],
    ['lecunNormal: not a tensor', () => lecunNormal(any(null)), TypeError, /^init\.lecunNormal: tensor must be a Tensor, got null/],
  ];
  for (const [name, fn, cls, message] of cases) {
    it(name, () => {
      expect(fn).toThrow(cls);
      expect(fn).toThrow(message);
    });
  }

  it('a failed call leaves the tensor untouched', () => {
    const w = tensor([1, 2, 3, 4], [2, 2]);
    expect(() => uniform(w, 2, 1)).toThrow();
    expect(() => kaimingNormal(w, any({ mode: 'fan_in' }))).toThrow();
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4]);
  });
});
