// Output sizes and padding against values worked out from PyTorch / Keras, and a few
// forward results small enough to check by hand (the backends could share a mistake).
import { describe, expect, it } from 'vitest';
import { broadcastGeometry, reduceGeometry, unbroadcastGeometry } from '../lib/ops/broadcast.js';
import { convGeometry, poolGeometry } from '../lib/geometry.js';
import { add, avgPool2d, clamp, conv2d, div, maxPool2d, mean, mul, sub, sum, tensor } from '../lib/index.js';
import { backends, withBackend } from './helpers.js';

const pads = (g: { padTop: number; padLeft: number; padBottom: number; padRight: number }) => [g.padTop, g.padLeft, g.padBottom, g.padRight];

describe('convGeometry', () => {
  it('floor((in + pads - d(k-1) - 1)/s) + 1', () => {
    const g = convGeometry('conv2d', [2, 3, 32, 32], [6, 3, 5, 5], {});
    expect([g.oh, g.ow]).toEqual([28, 28]);
    const h = convGeometry('conv2d', [1, 1, 199, 199], [1, 1, 3, 3], { stride: 2, padding: [1, 0], dilation: [1, 2] });
    expect([h.oh, h.ow]).toEqual([100, 98]); // floor(198/2)+1, floor(194/2)+1
    expect(pads(h)).toEqual([1, 0, 1, 0]);
  });

  it("'same' follows Keras: out = ceil(in/stride), the odd pad after", () => {
    const s1 = convGeometry('conv2d', [1, 1, 7, 7], [1, 1, 4, 4], { padding: 'same' });
    expect([s1.oh, s1.ow, ...pads(s1)]).toEqual([7, 7, 1, 1, 2, 2]);
    const s2 = convGeometry('conv2d', [1, 1, 6, 5], [1, 1, 3, 3], { padding: 'same', stride: 2 });
    expect([s2.oh, s2.ow, ...pads(s2)]).toEqual([3, 3, 0, 1, 1, 1]);
    const dil = convGeometry('conv2d', [1, 1, 9, 9], [1, 1, 3, 3], { padding: 'same', dilation: 2 });
    expect([dil.oh, ...pads(dil)]).toEqual([9, 2, 2, 2, 2]);
    const valid = convGeometry('conv2d', [1, 1, 9, 9], [1, 1, 3, 3], { padding: 'valid' });
    expect([valid.oh, ...pads(valid)]).toEqual([7, 0, 0, 0, 0]);
  });

  it('[top, left, bottom, right] padding', () => {
    const g = convGeometry('conv2d', [1, 1, 5, 5], [1, 1, 3, 3], { padding: [1, 2, 3, 4] });
    expect([g.oh, g.ow, ...pads(g)]).toEqual([7, 9, 1, 2, 3, 4]);
  });
});

describe('poolGeometry', () => {
  it('stride defaults to the kernel; floor vs ceil mode', () => {
    expect(poolGeometry('maxPool2d', [1, 1, 5, 5], 2, {}, 'max').oh).toBe(2);
    expect(poolGeometry('maxPool2d', [1, 1, 5, 5], 2, { ceilMode: true }, 'max').oh).toBe(3);
    expect(poolGeometry('maxPool2d', [1, 1, 6, 6], 3, { stride: 2, padding: 1, ceilMode: true }, 'max').oh).toBe(4);
  });

  it('ceil mode drops a window that would start in the padding (PyTorch)', () => {
    // ceil((5+2-2)/2)+1 = 4, but the 4th window would start at 6 >= 5+1: 3, as torch gives.
    const g = poolGeometry('avgPool2d', [1, 1, 5, 5], 2, { stride: 2, padding: 1, ceilMode: true }, 'avg');
    expect([g.oh, g.ow]).toEqual([3, 3]);
  });

  it('the 199x199 exercise', () => {
    const g = poolGeometry('maxPool2d', [1, 1, 199, 199], 3, { stride: 2 }, 'max');
    expect(g.oh).toBe(99);
  });
});

for (const backend of backends) {
  describe(`hand-checked forward values on ${backend}`, () => {
    it('conv2d with asymmetric padding and stride', () => {
      withBackend(backend, () => {
        const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
        const w = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
        const y = conv2d(x, w, tensor([10], [1]), { padding: [0, 0, 1, 1], stride: 2 });
        // Windows at (0,0) and (0,2), (2,0), (2,2) with zero padding after.
        expect(y.shape).toEqual([1, 1, 2, 2]);
        expect(Array.from(y.data)).toEqual([10 + 12, 10 + 9, 10 + 15, 10 + 9]);
      });
    });

    it('avgPool2d counts padding only when countIncludePad', () => {
      withBackend(backend, () => {
        const x = tensor(new Array(9).fill(1), [1, 1, 3, 3]);
        const incl = avgPool2d(x, 3, { stride: 1, padding: 1 });
        const excl = avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });
        expect(incl.data[0]).toBeCloseTo(4 / 9, 6);
        expect(incl.data[1]).toBeCloseTo(6 / 9, 6);
        expect(incl.data[4]).toBeCloseTo(1, 6);
        expect(Array.from(excl.data).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
      });
    });

    it('maxPool2d ceil mode with padding', () => {
      withBackend(backend, () => {
        const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], [1, 1, 5, 5]);
        const y = maxPool2d(x, 2, { stride: 2, padding: 1, ceilMode: true });
        expect(y.shape).toEqual([1, 1, 3, 3]);
        expect(Array.from(y.data)).toEqual([1, 3, 5, 11, 13, 15, 21, 23, 25]);
        const z = maxPool2d(x, 2, { ceilMode: true });
        expect(Array.from(z.data)).toEqual([7, 9, 10, 17, 19, 20, 22, 24, 25]);
      });
    });
  });
}

describe('broadcast and reduce geometries (lib/ops/broadcast.ts)', () => {
  it('merge neighbours that stay contiguous in both operands, and drop size-1 dims', () => {
    const bias = broadcastGeometry('t', [2, 3, 4, 5], [2, 3, 4, 5], [3, 1, 1]);
    expect([bias.shape, bias.aStrides, bias.bStrides]).toEqual([[2, 3, 20], [60, 20, 1], [0, 1, 0]]);
    expect(Array.from(bias.packed)).toEqual([3, 2, 3, 20, 60, 20, 1, 0, 1, 0]);
    const same = broadcastGeometry('t', [2, 3, 4], [2, 3, 4], [2, 3, 4]);
    expect([same.shape, same.aStrides, same.bStrides]).toEqual([[24], [1], [1]]);
    const scalar = broadcastGeometry('t', [2, 3], [], [2, 3]);
    expect([scalar.shape, scalar.aStrides, scalar.bStrides]).toEqual([[6], [0], [1]]);
    const outer = broadcastGeometry('t', [3, 4], [3, 1], [4]);
    expect([outer.shape, outer.aStrides, outer.bStrides]).toEqual([[3, 4], [1, 0], [0, 1]]);
    const ones = broadcastGeometry('t', [1, 1], [1], [1, 1]);
    expect([ones.shape, ones.aStrides, ones.bStrides]).toEqual([[1], [1], [1]]);
    const empty = broadcastGeometry('t', [0, 3], [0, 3], [1, 3]);
    expect([empty.shape, empty.aStrides, empty.bStrides]).toEqual([[0, 3], [3, 1], [0, 1]]);
  });

  it('merge reduced and kept runs, and sum a gradient back over the broadcast dims', () => {
    const g = reduceGeometry('t', [2, 3, 4, 5], [true, false, true, true]);
    expect([g.shape, g.reduced, Array.from(g.packed)]).toEqual([[2, 3, 20], [true, false, true], [3, 2, 3, 20, 1, 0, 1]]);
    expect(reduceGeometry('t', [], []).shape).toEqual([1]);
    const back = unbroadcastGeometry('t', [2, 3, 4, 5], [3, 1, 1]);
    expect([back.shape, back.reduced]).toEqual([[2, 3, 20], [true, false, true]]);
    const none = unbroadcastGeometry('t', [2, 3], [2, 3]);
    expect([none.shape, none.reduced]).toEqual([[6], [false]]);
  });
});

describe('broadcasting arithmetic and sums, by hand', () => {
  it.each(backends)('%s', (backend) => {
    withBackend(backend, () => {
      const col = tensor([1, 2], [2, 1]);
      const row = tensor([10, 20, 30], [3]);
      expect(Array.from(add(col, row).data)).toEqual([11, 21, 31, 12, 22, 32]);
      expect(Array.from(sub(row, col).data)).toEqual([9, 19, 29, 8, 18, 28]);
      expect(Array.from(mul(col, row).data)).toEqual([10, 20, 30, 20, 40, 60]);
      expect(Array.from(div(row, 4).data)).toEqual([2.5, 5, 7.5]);
      expect(Array.from(div(1, tensor([0, -0, 4], [3])).data)).toEqual([Infinity, -Infinity, 0.25]);
      const m = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(Array.from(sum(m).data)).toEqual([21]);
      expect(sum(m).shape).toEqual([]);
      expect(Array.from(sum(m, 0).data)).toEqual([5, 7, 9]);
      expect(Array.from(sum(m, -1, true).data)).toEqual([6, 15]);
      expect(sum(m, -1, true).shape).toEqual([2, 1]);
      expect(Array.from(mean(m, [0, 1]).data)).toEqual([3.5]);
      expect(Array.from(sum(m, []).data)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(clamp(tensor([-1, 0.5, 7], [3]), 0, 6).data)).toEqual([0, 0.5, 6]);
      expect(Array.from(clamp(tensor([-1, 0.5, 7], [3]), 2, 1).data)).toEqual([1, 1, 1]);
    });
  });
});
