// The host caching allocator through the public API: reuse never hands out a block that a live
// tensor holds, disposed and collected memory is reused, the limit holds, and every op's output
// is right when its block comes back full of garbage (poison mode).
import { setImmediate as turn } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { batchNorm2d, cpu, dropout, manualSeed, matmul, relu, reshape, tensor, Tensor } from '../lib/index.js';
import { allCases, caseTolerance } from './op-cases.js';
import { expectClose, forwardBackward, hasCpu, randData, rng, withBackend } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BIG = 512 * 1024; // floats: 2 MiB, a block of the native cache
const MID = 4704; // floats: 18 KiB, an array of the pool of mid-size arrays

function filled(value: number): Tensor {
  return tensor(new Float32Array(BIG).fill(value), [BIG]);
}

afterEach(() => {
  if (!hasCpu) return;
  cpu.setPoisonForTesting(false);
  cpu.setCacheLimit(2 ** 30);
});

describe.skipIf(!hasCpu)('host caching allocator', () => {
  it('gives a disposed tensor\'s block to the next tensor of its size, and detaches the old array', () => {
    const x = filled(-1);
    const y = withBackend('cpu', () => relu(x));
    const stale = y.data;
    const before = cpu.memoryStats();
    y.dispose();
    expect(stale.length).toBe(0); // detached: a stale view cannot read the next tensor's data
    expect(cpu.memoryStats().cachedBytes).toBeGreaterThan(before.cachedBytes);
    const z = withBackend('cpu', () => relu(filled(2)));
    const after = cpu.memoryStats();
    expect(after.cacheHits).toBeGreaterThan(before.cacheHits);
    expect(Array.from(z.data.subarray(0, 3))).toEqual([2, 2, 2]);
  });

  it('pools released mid-size arrays: reused, not zero-filled, and the old array detached', () => {
    withBackend('cpu', () => {
      const x = tensor(new Float32Array(MID).fill(-2), [MID]);
      const y = relu(x);
      const stale = y.data;
      const hits = cpu.memoryStats().poolHits;
      y.dispose();
      expect(stale.length).toBe(0);
      const z = relu(tensor(new Float32Array(MID).fill(5), [MID]));
      expect(cpu.memoryStats().poolHits).toBe(hits + 1);
      expect(z.data.length).toBe(MID);
      expect(z.data.every((v) => v === 5)).toBe(true);
    });
  });

  it('leaves the array alone when a tensor over part of it is disposed', () => {
    withBackend('cpu', () => {
      for (const n of [MID, BIG]) {
        const y = relu(tensor(new Float32Array(n).fill(4), [n]));
        const rows = new Tensor(y.data.subarray(0, n - 10), [n - 10]); // as evaluate() cuts a batch
        rows.dispose();
        expect(y.data.length).toBe(n);
        const z = relu(tensor(new Float32Array(n).fill(6), [n])); // would get y's memory if it had been freed
        expect(y.data[n - 1]).toBe(4);
        expect(z.data[0]).toBe(6);
      }
    });
  });

  it('never hands out a block that a live tensor still holds', () => {
    withBackend('cpu', () => {
      const live: Tensor[] = [];
      for (let round = 0; round < 20; round++) {
        live.push(relu(filled(round + 1)));
        const scratch = relu(filled(1000 + round)); // freed at once, so its block is the next one handed out
        scratch.dispose();
        if (round % 3 === 2) live.shift()!.dispose();
      }
      const buffers = new Set(live.map((t) => t.data.buffer));
      expect(buffers.size).toBe(live.length);
      for (const t of live) expect(t.data.every((v) => v === t.data[0])).toBe(true);
    });
  });

  it('keeps the memory of a reshape when the original is disposed', () => {
    withBackend('cpu', () => {
      const y = relu(filled(3));
      const view = reshape(y, [512, 1024]);
      y.dispose();
      expect(view.data.length).toBe(BIG);
      expect(view.data[BIG - 1]).toBe(3);
      view.dispose();
      expect(() => view.data).toThrow(TypeError);
    });
  });

  it('takes back the blocks of collected tensors once the event loop turns', async () => {
    const x = filled(1);
    withBackend('cpu', () => {
      for (let i = 0; i < 20; i++) relu(x); // dropped at once
    });
    const held = cpu.memoryStats().allocatedBytes;
    // V8 may sweep array buffers on a background thread, and Node runs the finalizers from
    // the event loop: give it a few collections and turns.
    for (let i = 0; i < 50 && cpu.memoryStats().allocatedBytes >= held - 10 * BIG * 4; i++) {
      gc();
      await turn();
    }
    expect(cpu.memoryStats().allocatedBytes).toBeLessThan(held - 10 * BIG * 4);
  });

  it('stays within its limit, and hands out plain arrays past it', () => {
    withBackend('cpu', () => {
      cpu.emptyCache();
      const held = cpu.memoryStats().allocatedBytes;
      const limit = held + 4 * BIG * 4;
      cpu.setCacheLimit(limit);
      const outs = Array.from({ length: 8 }, (_, i) => relu(filled(i)));
      const s = cpu.memoryStats();
      expect(s.allocatedBytes + s.cachedBytes).toBeLessThanOrEqual(limit);
      outs.forEach((t, i) => expect(t.data[BIG - 1]).toBe(i)); // the ones past the limit work too
      outs.forEach((t) => t.dispose());
      expect(cpu.memoryStats().allocatedBytes + cpu.memoryStats().cachedBytes).toBeLessThanOrEqual(limit);
    });
  });

  it('rejects a bad limit', () => {
    expect(() => cpu.setCacheLimit(-1)).toThrow(RangeError);
    expect(() => cpu.setCacheLimit('1G' as unknown as number)).toThrow(TypeError);
  });

  it('gives autograd\'s consumed gradients back to the cache during backward()', () => {
    withBackend('cpu', () => {
      const r = rng(3);
      const a = tensor(randData(r, 512 * 512), [512, 512], { requiresGrad: true });
      const b = tensor(randData(r, 512 * 512), [512, 512]);
      const ones = tensor(new Float32Array(512 * 512).fill(1), [512, 512]);
      const step = () => {
        const y = relu(relu(matmul(a, b)));
        y.backward(ones);
        a.grad = null;
      };
      step();
      const before = cpu.memoryStats().systemAllocations;
      // No turn of the event loop, so only explicit releases help. Per step, the three forward
      // outputs and a.grad are new (GC frees them later); the seed and the two relu gradients
      // (3 more blocks per step without the releases) come back from the cache.
      for (let i = 0; i < 5; i++) step();
      expect(cpu.memoryStats().systemAllocations - before).toBeLessThanOrEqual(5 * 4);
    });
  });
});

describe.skipIf(!hasCpu)('outputs are right when recycled blocks hold garbage (poison mode)', () => {
  const cases = allCases().filter((_, i) => i % 2 === 0);
  it(`cpu matches js on ${cases.length} op cases, forward and backward`, () => {
    cpu.setPoisonForTesting(true);
    for (const c of cases) {
      const expected = withBackend('js', () => forwardBackward(c.makeInputs, c.forward, c.seed));
      const actual = withBackend('cpu', () => forwardBackward(c.makeInputs, c.forward, c.seed));
      const tol = caseTolerance(c);
      expectClose(actual.out, expected.out, `${c.op} ${c.label} forward`, tol);
      actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `${c.op} ${c.label} grad ${i}`, tol));
    }
  });

  it('batchNorm2d and dropout match js, forward and backward', () => {
    cpu.setPoisonForTesting(true);
    const make = () => {
      const r = rng(11);
      return [tensor(randData(r, 3 * 4 * 5 * 6), [3, 4, 5, 6], { requiresGrad: true }),
        tensor(randData(r, 4), [4], { requiresGrad: true }), tensor(randData(r, 4), [4], { requiresGrad: true })];
    };
    const forward = ([x, w, b]: Tensor[]) => {
      manualSeed(5);
      return dropout(batchNorm2d(x, null, null, w, b, { training: true }), 0.3);
    };
    const expected = withBackend('js', () => forwardBackward(make, forward, 1));
    const actual = withBackend('cpu', () => forwardBackward(make, forward, 1));
    expectClose(actual.out, expected.out, 'batchNorm2d+dropout forward', 1e-4);
    actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `batchNorm2d+dropout grad ${i}`, 1e-4));
  });
});
