// Async ops give the sync results, on every backend, and record the tape like the sync ops.
import { describe, expect, it } from 'vitest';
import { conv2d, conv2dAsync, gemm, gemmAsync, matmul, matmulAsync, maxPool2d, maxPool2dAsync, Tensor } from '../lib/index.js';
import { backends, expectClose, randData, randTensor, rng, withBackendAsync } from './helpers.js';

interface AsyncCase {
  label: string;
  shapes: number[][];
  sync: (t: Tensor[]) => Tensor;
  async: (t: Tensor[]) => Promise<Tensor>;
}

const cases: AsyncCase[] = [
  { label: 'conv2d', shapes: [[3, 4, 9, 8], [6, 2, 3, 3], [6]],
    sync: ([x, w, b]) => conv2d(x, w, b, { groups: 2, stride: [2, 1], padding: 'same' }),
    async: ([x, w, b]) => conv2dAsync(x, w, b, { groups: 2, stride: [2, 1], padding: 'same' }) },
  { label: 'conv2d no bias, batch 16', shapes: [[16, 3, 12, 12], [8, 3, 5, 5]],
    sync: ([x, w]) => conv2d(x, w), async: ([x, w]) => conv2dAsync(x, w) },
  { label: 'maxPool2d', shapes: [[2, 3, 7, 7]],
    sync: ([x]) => maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
    async: ([x]) => maxPool2dAsync(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { label: 'gemm trans + c', shapes: [[7, 5], [9, 7], [9]],
    sync: ([a, b, c]) => gemm(a, b, c, { transA: true, transB: true, alpha: 2, beta: 0.5 }),
    async: ([a, b, c]) => gemmAsync(a, b, c, { transA: true, transB: true, alpha: 2, beta: 0.5 }) },
  { label: 'gemm big', shapes: [[64, 300], [300, 50]], sync: ([a, b]) => gemm(a, b), async: ([a, b]) => gemmAsync(a, b) },
  { label: 'matmul 2-d', shapes: [[5, 6], [6, 4]], sync: ([a, b]) => matmul(a, b), async: ([a, b]) => matmulAsync(a, b) },
  { label: 'matmul batched broadcast', shapes: [[2, 1, 3, 6], [4, 6, 5]], sync: ([a, b]) => matmul(a, b), async: ([a, b]) => matmulAsync(a, b) },
  { label: 'matmul 1-d', shapes: [[6], [3, 6, 2]], sync: ([a, b]) => matmul(a, b), async: ([a, b]) => matmulAsync(a, b) },
];

function leaves(c: AsyncCase, seed: number): Tensor[] {
  const r = rng(seed);
  return c.shapes.map((s) => randTensor(r, s, true));
}

for (const backend of backends) {
  describe(`async ops on ${backend}`, () => {
    it.each(cases.map((c, i) => [c.label, c, i] as const))('%s equals sync, forward and backward', async (_label, c, i) => {
      await withBackendAsync(backend, async () => {
        const syncInputs = leaves(c, 100 + i);
        const asyncInputs = leaves(c, 100 + i);
        const pending = c.async(asyncInputs);
        expect(pending).toBeInstanceOf(Promise);
        const ya = await pending;
        const ys = c.sync(syncInputs);
        expect(ya.shape).toEqual(ys.shape);
        expectClose(ya.data, ys.data, `${c.label} forward`, 1e-6, 1e-6);
        expect(ya.requiresGrad).toBe(true);
        const r = randData(rng(7), ys.size);
        ys.backward(new Tensor(r, ys.shape));
        ya.backward(new Tensor(r.slice(), ya.shape));
        syncInputs.forEach((t, j) => expectClose(asyncInputs[j].grad!.data, t.grad!.data, `${c.label} grad ${j}`, 1e-6, 1e-6));
      });
    });

    it('rejects bad input with the same errors as the sync op', async () => {
      await withBackendAsync(backend, async () => {
        const x = randTensor(rng(1), [1, 3, 8, 8]);
        const w = randTensor(rng(2), [4, 1, 3, 3]);
        await expect(conv2dAsync(x, w)).rejects.toThrow(RangeError);
        await expect(conv2dAsync(x, w)).rejects.toThrow(/^conv2dAsync: input has 3 channels but weight expects 1/);
        await expect(maxPool2dAsync(x, 9)).rejects.toThrow(/^maxPool2dAsync: kernel 9x9 is larger/);
        await expect(gemmAsync(randTensor(rng(3), [2, 3]), randTensor(rng(4), [4, 2]))).rejects.toThrow(/^gemmAsync: inner dimensions/);
        await expect(matmulAsync(randTensor(rng(3), [2, 2, 3]), randTensor(rng(4), [3, 3, 2]))).rejects.toThrow(/^matmulAsync: batch dimensions/);
        await expect(matmulAsync('a' as unknown as Tensor, x)).rejects.toThrow(TypeError);
      });
    });

    it('many concurrent calls all complete with the right results', async () => {
      await withBackendAsync(backend, async () => {
        const r = rng(9);
        const x = randTensor(r, [8, 3, 16, 16]);
        const w = randTensor(r, [4, 3, 3, 3]);
        const expected = conv2d(x, w).data;
        const results = await Promise.all(Array.from({ length: 16 }, () => conv2dAsync(x, w)));
        results.forEach((y, i) => expectClose(y.data, expected, `call ${i}`, 1e-6, 1e-6));
      });
    });
  });
}
