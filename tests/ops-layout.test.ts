// The meaning of the layout ops and argmax on every host backend, against references written
// independently of lib/ops/layout.ts: index arithmetic for permute and concat, Python's own
// slices (tests/fixtures/slice-cases.json, from make_slice_cases.py), and hand-written
// expectations for split, argmax and the gradients' zeros. The backends are compared with each
// other on random problems in ops-native-vs-js.test.ts, and the gradients in gradcheck.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { argmax, concat, permute, slice, split, tanh, tensor, transpose, Tensor } from '../lib/index.js';
import { permutations } from './op-cases.js';
import { backends, randTensor, rng, withBackend } from './helpers.js';

const sliceCases = JSON.parse(readFileSync(new URL('./fixtures/slice-cases.json', import.meta.url), 'utf8')) as
  Array<[n: number, start: string, end: string, step: number, picked: number[]]>;

/** The row-major index of `index` in shape. */
function flatIndex(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((flat, i, k) => flat * shape[k] + i, 0);
}

/** Every index of shape, in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.includes(0)) return;
  const index = shape.map(() => 0);
  for (;;) {
    yield index.slice();
    let k = shape.length - 1;
    for (; k >= 0; k--) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

function ones(shape: readonly number[]): Tensor {
  return tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
}

for (const backend of backends) {
  describe(`layout ops on ${backend}`, () => {
    const run = <T>(fn: () => T): T => withBackend(backend, fn);

    it('permute puts x[i[dims[0]], ..] at out[i] for every permutation of rank 4, and of ranks 0 to 6', () => {
      run(() => {
        const r = rng(1);
        const shapes = [[3, 1, 4, 2], [], [5], [2, 3], [3, 1, 2], [2, 3, 1, 2, 2], [2, 1, 2, 3, 1, 2]];
        for (const shape of shapes) {
          const x = randTensor(r, shape);
          const perms = shape.length === 4 ? permutations(4) : [permutations(shape.length).at(-1)!];
          for (const dims of perms) {
            const y = permute(x, dims);
            expect(y.shape).toEqual(dims.map((d) => shape[d]));
            for (const i of indices(y.shape)) {
              const source = shape.map((_, k) => i[dims.indexOf(k)]);
              expect(y.data[flatIndex(y.shape, i)]).toBe(x.data[flatIndex(shape, source)]);
            }
          }
        }
      });
    });

    it('transpose swaps two axes, negative ones counted from the end', () => {
      run(() => {
        const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
        expect(transpose(x, -1, 1).shape).toEqual([1, 3, 2]);
        expect(Array.from(transpose(x, -1, 1).data)).toEqual([1, 4, 2, 5, 3, 6]);
        expect(Array.from(transpose(x, 0, 0).data)).toEqual([1, 2, 3, 4, 5, 6]);
      });
    });

    it(`slice matches Python's x[start:end:step] in ${sliceCases.length} cases (INT64 bounds as numbers and bigints)`, () => {
      run(() => {
        sliceCases.forEach(([n, start, end, step, picked], i) => {
          const x = tensor(Array.from({ length: 2 * n }, (_, k) => k % n), [2, n]);
          const args: [number | bigint, number | bigint] = i % 2 ? [BigInt(start), BigInt(end)] : [Number(start), Number(end)];
          const y = slice(x, 1, ...args, step);
          const label = `[${n}][${start}:${end}:${step}]`;
          expect(y.shape, label).toEqual([2, picked.length]);
          expect(Array.from(y.data), label).toEqual([...picked, ...picked]);
        });
      });
    });

    it("slice's gradient scatters into zeros, along a middle axis and backwards", () => {
      run(() => {
        const x = tensor(Array.from({ length: 24 }, (_, k) => k), [2, 4, 3], { requiresGrad: true });
        const y = slice(x, 1, -1, 0, -2); // rows 3 and 1
        expect(Array.from(y.data)).toEqual([9, 10, 11, 3, 4, 5, 21, 22, 23, 15, 16, 17]);
        y.backward(tensor(Array.from({ length: 12 }, (_, k) => k + 1), y.shape));
        expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 4, 5, 6, 0, 0, 0, 1, 2, 3, 0, 0, 0, 10, 11, 12, 0, 0, 0, 7, 8, 9]);
      });
    });

    it('concat places each piece at its offset along the axis, empty pieces included', () => {
      run(() => {
        const r = rng(2);
        const pieces = [[2, 3, 2], [2, 0, 2], [2, 1, 2], [2, 4, 2]].map((s) => randTensor(r, s));
        const y = concat(pieces, -2);
        expect(y.shape).toEqual([2, 8, 2]);
        let along = 0;
        for (const p of pieces) {
          for (const i of indices(p.shape)) {
            expect(y.data[flatIndex(y.shape, [i[0], i[1] + along, i[2]])]).toBe(p.data[flatIndex(p.shape, i)]);
          }
          along += p.shape[1];
        }
        expect(concat([pieces[0]]).data).toEqual(pieces[0].data);
        expect(concat([pieces[0]]).data).not.toBe(pieces[0].data); // a copy, as torch.cat
        expect(concat([pieces[1], pieces[1]], 1).shape).toEqual([2, 0, 2]);
      });
    });

    it("concat's gradient is each piece's region of the output's", () => {
      run(() => {
        const a = tensor([1, 2], [1, 2], { requiresGrad: true });
        const b = tensor([3, 4, 5, 6], [2, 2], { requiresGrad: true });
        const y = concat([b, a, b], 0);
        y.backward(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]));
        expect(Array.from(a.grad!.data)).toEqual([5, 6]);
        expect(Array.from(b.grad!.data)).toEqual([1 + 7, 2 + 8, 3 + 9, 4 + 10]);
      });
    });

    it('split cuts chunks as torch.split and sizes as ONNX Split; concat joins them back', () => {
      run(() => {
        const x = tensor(Array.from({ length: 10 }, (_, k) => k), [5, 2]);
        expect(split(x, 2).map((p) => p.shape)).toEqual([[2, 2], [2, 2], [1, 2]]);
        expect(split(x, 5).map((p) => p.shape)).toEqual([[5, 2]]);
        expect(split(x, 7).map((p) => p.shape)).toEqual([[5, 2]]);
        expect(split(x, [1, 0, 4], 0).map((p) => Array.from(p.data))).toEqual([[0, 1], [], [2, 3, 4, 5, 6, 7, 8, 9]]);
        expect(split(x, 1, -1).map((p) => Array.from(p.data))).toEqual([[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]);
        expect(concat(split(x, [2, 3]), 0).data).toEqual(x.data);
        expect(split(tensor([], [0, 3]), 2).map((p) => p.shape)).toEqual([[0, 3]]); // one empty piece
      });
    });

    it("split's gradient has zeros where a piece got none, and a second backward through its graph is refused", () => {
      run(() => {
        const x = tensor([1, 2, 3, 4, 5, 6], [6], { requiresGrad: true });
        const [a, b, c] = split(x, [2, 1, 3]);
        concat([c, a], 0).backward(tensor([10, 20, 30, 40, 50], [5]));
        expect(Array.from(x.grad!.data)).toEqual([40, 50, 0, 10, 20, 30]);
        expect(() => b.backward(ones([1]))).toThrow(/already released/);
        expect(Array.from(x.grad!.data)).toEqual([40, 50, 0, 10, 20, 30]); // untouched by the refused pass
      });
    });

    it('split pieces flow into the rest of the graph with x used elsewhere too', () => {
      run(() => {
        const x = tensor([0.1, 0.2, 0.3, 0.4], [4], { requiresGrad: true });
        const [a, b] = split(x, 2);
        const y = concat([tanh(x), b, a, b], 0);
        y.backward(ones(y.shape));
        const dtanh = [0.1, 0.2, 0.3, 0.4].map((v) => 1 - Math.tanh(Math.fround(v)) ** 2);
        const want = [dtanh[0] + 1, dtanh[1] + 1, dtanh[2] + 2, dtanh[3] + 2];
        Array.from(x.grad!.data).forEach((g, i) => expect(g).toBeCloseTo(want[i], 6));
      });
    });

    it('argmax: first index on ties, NaN largest (the first NaN), -Infinity everywhere is index 0', () => {
      run(() => {
        expect(Array.from(argmax(tensor([1, 3, 3, 2], [4])).data)).toEqual([1]);
        expect(Array.from(argmax(tensor([1, NaN, 9, NaN], [4])).data)).toEqual([1]);
        expect(Array.from(argmax(tensor([-Infinity, -Infinity], [2])).data)).toEqual([0]);
        expect(Array.from(argmax(tensor([0, -0, 0], [3])).data)).toEqual([0]);
        const x = tensor([1, 5, 2, 7, 7, 0, NaN, 1, 1, 4, 4, 8], [2, 3, 2]);
        expect(Array.from(argmax(x, 1).data)).toEqual([2, 1, 0, 2]); // torch.argmax gives these too
        expect(Array.from(argmax(x, -1).data)).toEqual([1, 1, 0, 0, 1, 1]);
        expect(Array.from(argmax(x).data)).toEqual([6]);
      });
    });

    it('argmax shapes: the axis removed or kept as 1, all ones for the flattened form, I32 on the host', () => {
      run(() => {
        const x = randTensor(rng(3), [2, 3, 4]);
        const y = argmax(x, 1);
        expect(y.dtype).toBe('I32');
        expect(y.data).toBeInstanceOf(Int32Array);
        expect(y.shape).toEqual([2, 4]);
        expect(argmax(x, 1, true).shape).toEqual([2, 1, 4]);
        expect(argmax(x).shape).toEqual([]);
        expect(argmax(x, undefined, true).shape).toEqual([1, 1, 1]);
        expect(argmax(tensor([5], [])).shape).toEqual([]);
        expect(argmax(tensor([5], []), 0).shape).toEqual([]);
        expect(argmax(tensor([], [0, 3]), 1).shape).toEqual([0]); // nothing to reduce over, nothing to return
        expect(() => argmax(tensor([], [2, 0]), 1)).toThrow(RangeError);
        expect(() => argmax(tensor([], [0]))).toThrow(/argmax: x \[0\] has no elements/);
      });
    });

    it('empty tensors pass through every op, forward and backward', () => {
      run(() => {
        const x = tensor([], [2, 0, 3], { requiresGrad: true });
        const y = concat([permute(x, [2, 0, 1]), permute(slice(x, 0, 0, 1), [2, 0, 1])], 1);
        expect(y.shape).toEqual([3, 3, 0]);
        y.backward(tensor([], y.shape));
        expect(x.grad!.shape).toEqual([2, 0, 3]);
        const z = tensor([1, 2, 3], [3], { requiresGrad: true });
        const empty = slice(z, 0, 2, 1);
        expect(empty.shape).toEqual([0]);
        concat([empty, z]).backward(ones([3]));
        expect(Array.from(z.grad!.data)).toEqual([1, 1, 1]);
      });
    });
  });
}
