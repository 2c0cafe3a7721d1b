// TensorDataset and DataLoader: batch shapes, partial batches, one visit per sample per epoch,
// seeded shuffles, and labels that stay with their images.
import { describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset, type Batch, type Dataset } from '../lib/data/index.js';
import { Generator, manualSeed } from '../lib/random.js';
import { Tensor, tensor } from '../lib/tensor.js';

const SAMPLE_SHAPE = [2, 3];
const SAMPLE_SIZE = 6;

/** Sample i has label i and pixels 10*i + j, so a batch shows which sample each row came from. */
function numbered(n: number): TensorDataset {
  const data = new Float32Array(n * SAMPLE_SIZE);
  for (let i = 0; i < n; i++) for (let j = 0; j < SAMPLE_SIZE; j++) data[i * SAMPLE_SIZE + j] = 10 * i + j;
  return new TensorDataset(new Tensor(data, [n, ...SAMPLE_SHAPE]), Int32Array.from({ length: n }, (_, i) => i));
}

/** Checks that every row of x is the image of the sample its label names; returns the labels. */
function checkAligned(batch: Batch): number[] {
  const { x, y } = batch;
  expect(x.shape).toEqual([y.length, ...SAMPLE_SHAPE]);
  for (let k = 0; k < y.length; k++) {
    for (let j = 0; j < SAMPLE_SIZE; j++) {
      if (x.data[k * SAMPLE_SIZE + j] !== 10 * y[k] + j) throw new Error(`row ${k} (label ${y[k]}) holds ${x.data[k * SAMPLE_SIZE + j]} at ${j}`);
    }
  }
  return Array.from(y);
}

function epochOrder(loader: DataLoader): number[] {
  const order: number[] = [];
  for (const batch of loader) order.push(...checkAligned(batch));
  return order;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('TensorDataset', () => {
  it('holds samples as rows, with get() returning copies', () => {
    const ds = numbered(4);
    expect(ds.length).toBe(4);
    expect(ds.sampleShape).toEqual(SAMPLE_SHAPE);
    expect(ds.sampleSize).toBe(SAMPLE_SIZE);
    const s = ds.get(2);
    expect(s.y).toBe(2);
    expect(s.x.shape).toEqual(SAMPLE_SHAPE);
    expect(Array.from(s.x.data)).toEqual([20, 21, 22, 23, 24, 25]);
    s.x.data[0] = -1;
    expect(ds.get(2).x.data[0]).toBe(20);
  });

  it('accepts labels as a number array and copies them', () => {
    const labels = [3, 1];
    const ds = new TensorDataset(tensor([1, 2, 3, 4], [2, 2]), labels);
    labels[0] = 9;
    expect(Array.from(ds.labels)).toEqual([3, 1]);
  });

  it('validates its arguments', () => {
    const images = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(() => new TensorDataset(images, [1, 2])).toThrow(/images has 3 samples \(shape \[3,2\]\) but labels has 2/);
    expect(() => new TensorDataset([1, 2] as unknown as Tensor, [1, 2])).toThrow(TypeError);
    expect(() => new TensorDataset(images, [1, 2.5, 3])).toThrow(/labels\[1\] must be an int32 integer, got 2.5/);
    expect(() => new TensorDataset(images, [1, '2', 3] as unknown as number[])).toThrow(TypeError);
    expect(() => new TensorDataset(images, new Float32Array(3) as unknown as number[])).toThrow(/labels must be an Int32Array or an array of integers/);
    expect(() => new TensorDataset(tensor([1], []), [])).toThrow(/sample dimension first/);
    expect(() => numbered(3).get(3)).toThrow(/index 3 is out of range for 3 samples/);
    expect(() => numbered(3).get(-1)).toThrow(RangeError);
  });
});

describe('DataLoader', () => {
  it('gives batches of batchSize and keeps the last partial one', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map((b) => b.x.shape)).toEqual([[4, 2, 3], [4, 2, 3], [2, 2, 3]]);
    expect(batches.every((b) => b.y instanceof Int32Array)).toBe(true);
    expect(epochOrder(loader)).toEqual(range(10)); // unshuffled: dataset order
  });

  it('drops the last partial batch with dropLast', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect([...loader].map((b) => b.x.shape[0])).toEqual([4, 4]);
    expect(new DataLoader(numbered(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(numbered(3), { batchSize: 4, dropLast: true }).length).toBe(0);
    expect([...new DataLoader(numbered(3), { batchSize: 4, dropLast: true })]).toEqual([]);
  });

  it('defaults to batches of one, and handles an empty dataset', () => {
    const loader = new DataLoader(numbered(3));
    expect(loader.length).toBe(3);
    expect([...loader].map((b) => b.x.shape)).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    const empty = new DataLoader(numbered(0), { batchSize: 4, shuffle: true });
    expect(empty.length).toBe(0);
    expect([...empty]).toEqual([]);
  });

  it('visits every sample exactly once per shuffled epoch, labels aligned with images', () => {
    const loader = new DataLoader(numbered(103), { batchSize: 8, shuffle: true, generator: new Generator(1) });
    for (let epoch = 0; epoch < 3; epoch++) {
      const order = epochOrder(loader);
      expect(order.length).toBe(103);
      expect([...order].sort((a, b) => a - b)).toEqual(range(103));
      expect(order).not.toEqual(range(103));
    }
  });

  it('repeats its shuffles for the same seed and reshuffles every epoch', () => {
    const epochs = (seed: number) => {
      const loader = new DataLoader(numbered(50), { batchSize: 7, shuffle: true, generator: new Generator(seed) });
      return [epochOrder(loader), epochOrder(loader), epochOrder(loader)];
    };
    const a = epochs(42);
    expect(epochs(42)).toEqual(a);
    expect(a[1]).not.toEqual(a[0]);
    expect(a[2]).not.toEqual(a[1]);
    expect(epochs(43)[0]).not.toEqual(a[0]);
  });

  it('draws from the global generator by default, which manualSeed resets', () => {
    const loader = new DataLoader(numbered(40), { batchSize: 5, shuffle: true });
    manualSeed(7);
    const first = epochOrder(loader);
    manualSeed(7);
    expect(epochOrder(loader)).toEqual(first);
  });

  it('yields fresh batches that neither alias the dataset nor change later', () => {
    const ds = numbered(6);
    for (const shuffle of [false, true]) {
      const loader = new DataLoader(ds, { batchSize: 2, shuffle, generator: new Generator(3) });
      const kept = [...loader];
      const snapshot = kept.map((b) => [Array.from(b.x.data), Array.from(b.y)]);
      for (const b of kept) { b.x.data.fill(-1); b.y.fill(-1); }
      expect(ds.get(0).x.data[1]).toBe(1);
      expect(ds.labels[0]).toBe(0);
      const again = [...new DataLoader(ds, { batchSize: 2, shuffle, generator: new Generator(3) })];
      expect(again.map((b) => [Array.from(b.x.data), Array.from(b.y)])).toEqual(snapshot);
    }
  });

  it('runs two epochs side by side, each complete', () => {
    const loader = new DataLoader(numbered(12), { batchSize: 5, shuffle: true, generator: new Generator(9) });
    const a = loader[Symbol.iterator]();
    const b = loader[Symbol.iterator]();
    const seen: number[][] = [[], []];
    for (;;) {
      const ra = a.next();
      const rb = b.next();
      if (ra.done || rb.done) { expect(ra.done && rb.done).toBe(true); break; }
      seen[0].push(...checkAligned(ra.value));
      seen[1].push(...checkAligned(rb.value));
    }
    for (const s of seen) expect(s.sort((x, y) => x - y)).toEqual(range(12));
  });

  it('batches any Dataset through get()', () => {
    const inner = numbered(9);
    const plain: Dataset = { length: 9, get: (i) => inner.get(i) };
    const loader = new DataLoader(plain, { batchSize: 4, shuffle: true, generator: new Generator(5) });
    const order = epochOrder(loader);
    expect(order.sort((x, y) => x - y)).toEqual(range(9));
    expect([...new DataLoader(plain, { batchSize: 4 })].map((b) => b.x.shape[0])).toEqual([4, 4, 1]);
  });

  it('rejects samples of different shapes and malformed samples from a Dataset', () => {
    const ragged: Dataset = { length: 2, get: (i) => ({ x: tensor(new Float32Array(i + 1), [i + 1]), y: 0 }) };
    expect(() => [...new DataLoader(ragged, { batchSize: 2 })]).toThrow(/dataset.get\(1\).x has shape \[2\] but the batch's first sample has \[1\]/);
    const badLabel = { length: 1, get: () => ({ x: tensor([1], [1]), y: 0.5 }) };
    expect(() => [...new DataLoader(badLabel)]).toThrow(/y must be an int32 integer label, got 0.5/);
    const notTensor = { length: 1, get: () => ({ x: [1], y: 0 }) } as unknown as Dataset;
    expect(() => [...new DataLoader(notTensor)]).toThrow(TypeError);
  });

  it('validates the dataset and options', () => {
    const ds = numbered(4);
    expect(() => new DataLoader([1, 2] as unknown as Dataset)).toThrow(/dataset must be a Dataset/);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(RangeError);
    expect(() => new DataLoader(ds, { batchSize: '4' as unknown as number })).toThrow(TypeError);
    expect(() => new DataLoader(ds, { shuffle: 1 as unknown as boolean })).toThrow(/shuffle must be a boolean/);
    expect(() => new DataLoader(ds, { dropLast: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new DataLoader(ds, { generator: Math.random as unknown as Generator })).toThrow(/generator must be a Generator/);
    expect(() => new DataLoader(ds, { batchsize: 4 } as unknown as object)).toThrow(/unknown option 'batchsize'/);
  });
});
