// Disposing a tensor while an async op still uses it must not hand its memory to the next
// tensor: the op's result stays what the sync op gives, for inputs from the addon's block cache
// (held by the worker) and from the pool of mid-size arrays (left to GC while in flight).
import { describe, expect, it } from 'vitest';
import { conv2d, conv2dAsync, relu, tensor, type Tensor } from '../lib/index.js';
import { hasCpu, randData, rng, withBackend } from './helpers.js';

async function disposeWhileRunning(xShape: number[], wShape: number[]): Promise<void> {
  const r = rng(xShape[0] * 31 + wShape[0]);
  const make = (shape: number[]) => tensor(randData(r, shape.reduce((a, b) => a * b, 1)), shape);
  const x = relu(make(xShape)); // storage from the cpu backend's caches, like any op result
  const w = make(wShape);
  const expected = conv2d(x, w).toArray();
  const sources = [0, 1, 2, 3].map((i) => tensor(new Float32Array(x.size).fill(1e6 + i), xShape));
  const pending = conv2dAsync(x, w);
  x.dispose();
  // Results of x's size made now would get x's memory if it were free, and fill it with garbage.
  const garbage: Tensor[] = sources.map((t) => relu(t));
  const got = (await pending).toArray();
  expect(got.length).toBe(expected.length);
  let same = true;
  for (let i = 0; i < got.length; i++) same &&= got[i] === expected[i];
  expect(same).toBe(true);
  garbage.forEach((t) => expect(t.data[0]).toBeGreaterThanOrEqual(1e6));
}

describe.skipIf(!hasCpu)('dispose() during an async op', () => {
  it('keeps a block of the native cache until the kernel is done', async () => {
    await withBackend('cpu', () => disposeWhileRunning([8, 64, 128, 128], [64, 64, 3, 3])); // x: 32 MiB
  }, 60_000);

  it('keeps a pooled mid-size array until the kernel is done', async () => {
    await withBackend('cpu', () => disposeWhileRunning([1, 8, 128, 128], [64, 8, 5, 5])); // x: 512 KiB
  }, 60_000);
});
