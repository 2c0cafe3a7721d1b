// batchNorm2d and dropout: the native cpu backend against the js reference on seeded random
// problems, forward, backward and the running-statistics update.
import { describe, expect, it } from 'vitest';
import { manualSeed } from '../lib/random.js';
import { batchNorm2d } from '../lib/ops/batchnorm.js';
import { dropout } from '../lib/ops/dropout.js';
import { tensor, Tensor } from '../lib/index.js';
import { expectClose, forwardBackward, hasCpu, pick, randInt, randTensor, rng, withBackend } from './helpers.js';

interface Case {
  label: string;
  seed: number;
  makeInputs: () => Tensor[];
  forward: (inputs: Tensor[]) => Tensor;
  /** The running statistics forward updated, when it keeps them. */
  running?: () => Tensor[];
}

function batchNormCases(): Case[] {
  const r = rng(77);
  const cases: Case[] = [];
  for (let i = 0; i < 40; i++) {
    const seed = 9000 + i;
    const n = pick(r, [1, 2, 3, 8]), c = randInt(r, 1, 9), h = randInt(r, 1, 9), w = randInt(r, 1, 9);
    const training = i % 3 !== 0 && n * h * w > 1;
    const affine = i % 4 !== 1;
    const offset = i % 5 === 0 ? 50 : 0;
    let stats: Tensor[] = [];
    cases.push({
      label: `batchNorm2d [${n},${c},${h},${w}] ${training ? 'training' : 'eval'}${affine ? '' : ' no affine'}${offset ? ' offset 50' : ''}`,
      seed,
      makeInputs: () => {
        const rr = rng(seed);
        const x = randTensor(rr, [n, c, h, w], true);
        for (let k = 0; k < x.size; k++) x.data[k] += offset;
        return affine ? [x, randTensor(rr, [c], true), randTensor(rr, [c], true)] : [x];
      },
      forward: ([x, weight, bias]) => {
        const rr = rng(seed + 1);
        stats = [tensor(Array.from({ length: c }, () => rr() - 0.5), [c]), tensor(Array.from({ length: c }, () => 0.5 + rr()), [c])];
        return batchNorm2d(x, stats[0], stats[1], weight ?? null, bias ?? null, { training, momentum: 0.3 });
      },
      running: () => stats,
    });
  }
  return cases;
}

function dropoutCases(): Case[] {
  return [[5, 0.5], [1000, 0.1], [4099, 0.9], [3 * 7 * 11, 0.25], [1, 0.5]].map(([size, p], i) => ({
    label: `dropout ${size} p ${p}`,
    seed: 9500 + i,
    makeInputs: () => [randTensor(rng(9500 + i), [size], true)],
    forward: ([x]) => {
      manualSeed(123 + i);
      return dropout(x, p);
    },
  }));
}

const cases = [...batchNormCases(), ...dropoutCases()];

describe.skipIf(!hasCpu)('batchNorm2d and dropout: cpu matches js', () => {
  it.each(cases.map((c) => [c.label, c] as const))('%s', (label, c) => {
    const expected = withBackend('js', () => forwardBackward(c.makeInputs, c.forward, c.seed));
    const expectedRunning = c.running?.().map((t) => t.toArray());
    const actual = withBackend('cpu', () => forwardBackward(c.makeInputs, c.forward, c.seed));
    const actualRunning = c.running?.().map((t) => t.toArray());
    expect(actual.shape).toEqual(expected.shape);
    expectClose(actual.out, expected.out, `${label} forward`, 1e-4);
    expect(actual.grads.length).toBe(expected.grads.length);
    actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `${label} grad of input ${i}`, 2e-4));
    expectedRunning?.forEach((e, i) => expectClose(actualRunning![i], e, `${label} running stat ${i}`, 1e-5));
  });
});

describe.skipIf(!hasCpu)('the binding checks its buffers', () => {
  const f = (n: number) => new Float32Array(n);
  it('rejects wrong lengths and types with errors that name the argument', async () => {
    const { hostKernels } = await import('../lib/backend/registry.js');
    const cpu = hostKernels('cpu');
    expect(() => cpu.batchNorm2dStats(f(11), 2, 2, 3, f(2), f(2))).toThrow(new RangeError('batchNorm2dStats: x has 11 elements, expected 12'));
    expect(() => cpu.batchNorm2dForward(f(12), 2, 2, 3, f(2), f(2), f(3), null, f(12))).toThrow(new RangeError('batchNorm2dForward: weight has 3 elements, expected 2'));
    expect(() => cpu.batchNorm2dBackward(f(12), f(12), 2, 2, 3, f(2), f(2), null, true, f(12), null, f(1))).toThrow(/^batchNorm2dBackward: dbias has 1 elements, expected 2/);
    expect(() => cpu.batchNorm2dForward(f(12), -2, 2, 3, f(2), f(2), null, null, f(12))).toThrow(RangeError);
    expect(() => cpu.dropout(f(4), new Uint8Array(3), 2, f(4))).toThrow(new RangeError('dropout: mask has 3 elements, expected 4'));
    expect(() => cpu.dropout(f(4), new Int8Array(4) as never, 2, f(4))).toThrow(new TypeError('dropout: mask must be a Uint8Array'));
  });
});
