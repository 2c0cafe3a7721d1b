// Datasets: anything with a length and an indexed sample. TensorDataset keeps every sample in
// one contiguous [N, ...] tensor, so a DataLoader can copy a sample's row with one .set().
import { checkInt, checkTensor } from '../check.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** One sample: its input and its integer class label. */
export interface Sample {
  x: Tensor;
  y: number;
}

/** The contract a DataLoader iterates: samples 0..length-1, each of the same shape. */
export interface Dataset {
  readonly length: number;
  /** Sample `index` (0 <= index < length). */
  get(index: number): Sample;
}

/** Labels as an Int32Array copy, checking each is an integer that int32 holds. */
function toLabels(op: string, labels: unknown): Int32Array {
  if (labels instanceof Int32Array) return labels.slice();
  if (!Array.isArray(labels)) throw new TypeError(`${op}: labels must be an Int32Array or an array of integers, got ${describe(labels)}`);
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v: unknown = labels[i];
    if (typeof v !== 'number') throw new TypeError(`${op}: labels[${i}] must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`${op}: labels[${i}] must be an int32 integer, got ${v}`);
    out[i] = v;
  }
  return out;
}

/**
 * Samples stored as rows of one tensor: images [N, ...sampleShape] and N labels. Wraps the
 * images tensor without copying it (so do not modify it while a loader runs); copies labels.
 */
export class TensorDataset implements Dataset {
  readonly images: Tensor;
  readonly labels: Int32Array;
  /** The shape of one sample: images.shape without its first dim. */
  readonly sampleShape: readonly number[];
  /** Elements in one sample: the stride between rows of images.data. */
  readonly sampleSize: number;

  constructor(images: Tensor, labels: Int32Array | readonly number[]) {
    const op = 'TensorDataset';
    checkTensor(op, 'images', images);
    if (images.ndim < 1) throw new RangeError(`${op}: images must have a sample dimension first ([N, ...]), got shape ${formatShape(images.shape)}`);
    const y = toLabels(op, labels);
    if (y.length !== images.shape[0]) {
      throw new RangeError(`${op}: images has ${images.shape[0]} samples (shape ${formatShape(images.shape)}) but labels has ${y.length}`);
    }
    this.images = images;
    this.labels = y;
    this.sampleShape = Object.freeze(images.shape.slice(1));
    this.sampleSize = this.sampleShape.reduce((a, b) => a * b, 1);
  }

  get length(): number {
    return this.labels.length;
  }

  /** Sample i as a fresh tensor (a copy: changing it leaves the dataset alone). */
  get(index: number): Sample {
    checkInt('TensorDataset.get', 'index', index, 0);
    if (index >= this.length) throw new RangeError(`TensorDataset.get: index ${index} is out of range for ${this.length} samples`);
    const start = index * this.sampleSize;
    return {
      x: new Tensor(this.images.data.slice(start, start + this.sampleSize), this.sampleShape),
      y: this.labels[index],
    };
  }
}
