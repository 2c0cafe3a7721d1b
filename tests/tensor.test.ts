// Tensor basics and the tape: accumulation, release, noGrad (sync and async), detach.
import { describe, expect, it } from 'vitest';
import { conv2d, flatten, linear, matmul, maxPool2d, noGrad, relu, reshape, sigmoid, softmax, tanh, tensor, Tensor } from '../lib/index.js';
import { expectClose, randTensor, rng } from './helpers.js';

describe('tensor()', () => {
  it('copies data into float32 with the given shape', () => {
    const src = [1, 2.5, -3, 4, 5, 6];
    const t = tensor(src, [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.ndim).toBe(2);
    expect(t.requiresGrad).toBe(false);
    expect(t.grad).toBeNull();
    expect(Array.from(t.data)).toEqual(src);
    src[0] = 100;
    expect(t.data[0]).toBe(1);
    const f = new Float32Array([1, 2]);
    const u = tensor(f, [2]);
    f[0] = 9;
    expect(u.data[0]).toBe(1);
  });

  it('keeps its shape immutable', () => {
    const shape = [2, 2];
    const t = tensor([1, 2, 3, 4], shape);
    shape[0] = 4;
    expect(t.shape).toEqual([2, 2]);
    expect(() => (t.shape as number[]).push(1)).toThrow();
  });

  it('supports 0-d and empty tensors', () => {
    const s = tensor([3.5], []);
    expect(s.shape).toEqual([]);
    expect(s.size).toBe(1);
    expect(s.ndim).toBe(0);
    expect(s.item()).toBe(3.5);
    const e = tensor([], [0, 3]);
    expect(e.size).toBe(0);
    expect(relu(e).shape).toEqual([0, 3]);
  });

  it('toArray returns a copy', () => {
    const t = tensor([1, 2], [2]);
    const a = t.toArray();
    a[0] = 7;
    expect(t.data[0]).toBe(1);
  });

  it('stores NaN and Infinity as given', () => {
    const t = tensor([NaN, Infinity, -Infinity], [3]);
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(Infinity);
  });

  it('detach shares data but leaves the tape', () => {
    const x = tensor([1, -2], [2], { requiresGrad: true });
    const y = relu(x);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.data).toBe(y.data);
    expect(d.gradFn).toBeNull();
  });

  it('rejects an array as opts, like every op does (found by the fuzzer, issue 17: it was ignored)', () => {
    expect(() => tensor([1, 2], [2], [] as never)).toThrow(TypeError);
    expect(() => tensor([1, 2], [2], [] as never)).toThrow(/^tensor: opts must be an object, got array/);
  });
});

describe('autograd', () => {
  it('records only when an input requires grad', () => {
    const x = tensor([1, 2], [2]);
    expect(relu(x).requiresGrad).toBe(false);
    expect(relu(x).gradFn).toBeNull();
    const p = tensor([1, 2], [2], { requiresGrad: true });
    expect(relu(p).requiresGrad).toBe(true);
  });

  it('sums gradients of a tensor used twice (matmul(a, a))', () => {
    const a = randTensor(rng(1), [3, 3], true);
    const r = randTensor(rng(2), [3, 3]);
    matmul(a, a).backward(r);
    // d/dA sum((A A) * R) = R A^T + A^T R
    const A = a.data;
    const R = r.data;
    const expected = new Float32Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) {
      expected[i * 3 + j] += R[i * 3 + k] * A[j * 3 + k] + A[k * 3 + i] * R[k * 3 + j];
    }
    expectClose(a.grad!.data, expected, 'dA', 1e-5);
  });

  it('sums gradients through a shared non-leaf (diamond)', () => {
    const x = tensor([0.5, -1, 2, 1], [2, 2], { requiresGrad: true });
    const y = tanh(x);
    matmul(y, reshape(y, [2, 2])).backward(tensor([1, 1, 1, 1], [2, 2]));
    // Against a recomputation with the shared node split into two copies.
    const x1 = tensor(x.data, [2, 2], { requiresGrad: true });
    const x2 = tensor(x.data, [2, 2], { requiresGrad: true });
    matmul(tanh(x1), tanh(x2)).backward(tensor([1, 1, 1, 1], [2, 2]));
    const sum = x1.grad!.data.map((v, i) => v + x2.grad!.data[i]);
    expectClose(x.grad!.data, sum, 'diamond', 1e-6);
  });

  it('accumulates into leaf.grad across backward calls, as PyTorch does', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    sigmoid(x).backward(tensor([1, 1, 1], [3]));
    const once = x.grad!.toArray();
    sigmoid(x).backward(tensor([1, 1, 1], [3]));
    expectClose(x.grad!.data, once.map((v) => 2 * v), 'twice', 1e-6);
  });

  it('keeps gradients only on leaves', () => {
    const x = tensor([1, 2], [1, 2], { requiresGrad: true });
    const h = tanh(x);
    const loss = linear(h, tensor([1, 1], [1, 2]));
    loss.backward();
    expect(x.grad).not.toBeNull();
    expect(h.grad).toBeNull();
  });

  it('seeds a 1-element loss with 1 and rejects non-scalars without a gradient', () => {
    const x = tensor([2], [1], { requiresGrad: true });
    const y = reshape(x, []);
    y.backward();
    expect(x.grad!.data[0]).toBe(1);
    expect(() => relu(tensor([1, 2], [2], { requiresGrad: true })).backward()).toThrow(/1-element/);
  });

  it('does not let backward modify the caller\'s gradient tensor', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const g = tensor([1, 1], [2]);
    reshape(x, [2]).backward(g);
    reshape(x, [2]).backward(g);
    expect(Array.from(g.data)).toEqual([1, 1]);
    expect(Array.from(x.grad!.data)).toEqual([2, 2]);
  });

  it('releases the graph after backward', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = tanh(relu(x));
    y.backward(tensor([1, 1], [2]));
    expect(y.gradFn!.backward).toBeNull();
    expect(y.gradFn!.parents).toEqual([]);
    expect(() => y.backward(tensor([1, 1], [2]))).toThrow(/already released/);
  });

  it('throws on backward of a tensor that needs no grad', () => {
    expect(() => tensor([1], [1]).backward()).toThrow(/does not require grad/);
  });

  it('handles deep graphs without recursion limits', () => {
    const x = tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 20000; i++) y = reshape(y, i % 2 ? [4] : [2, 2]);
    y.backward(tensor([1, 2, 3, 4], y.shape));
    expect(Array.from(x.grad!.data)).toEqual([1, 2, 3, 4]);
  });

  it('backward through a LeNet-style chain reaches every parameter', () => {
    const r = rng(5);
    const x = randTensor(r, [2, 1, 12, 12]);
    const w = randTensor(r, [4, 1, 5, 5], true);
    const fw = randTensor(r, [3, 64], true);
    const y = softmax(linear(flatten(maxPool2d(relu(conv2d(x, w)), 2)), fw));
    y.backward(randTensor(r, [2, 3]));
    expect(w.grad!.size).toBe(w.size);
    expect(fw.grad!.data.some((v) => v !== 0)).toBe(true);
    expect(x.grad).toBeNull();
  });
});

describe('noGrad', () => {
  it('returns the result and records nothing', () => {
    const x = tensor([1, -1], [2], { requiresGrad: true });
    const y = noGrad(() => relu(x));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(relu(x).requiresGrad).toBe(true); // restored afterwards
  });

  it('restores grad mode when fn throws', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(relu(x).requiresGrad).toBe(true);
  });

  it('nests', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    const y = noGrad(() => noGrad(() => relu(x)));
    expect(y.requiresGrad).toBe(false);
  });

  it('covers awaited code in an async fn, but not code running beside it', async () => {
    const x = tensor([1], [1], { requiresGrad: true });
    let outside: Tensor | null = null;
    const inside = noGrad(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return relu(x);
    });
    setTimeout(() => { outside = relu(x); }, 1);
    const y = await inside;
    expect(y.requiresGrad).toBe(false);
    expect(outside!.requiresGrad).toBe(true);
    expect(relu(x).requiresGrad).toBe(true);
  });
});
