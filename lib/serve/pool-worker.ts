// One thread of the worker pool (worker-pool.ts): loads the model file once, when the thread
// starts, then runs batches. Inputs arrive and outputs leave as transferred ArrayBuffers, so a
// tensor's bytes move between threads without a structured-clone copy.
import { Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { load } from '../io/model-file.js';
import { Tensor } from '../tensor.js';
import { inferBatch } from '../train/infer-batch.js';
import { softmaxRows } from '../train/softmax-option.js';

export interface PoolTask {
  buffer: ArrayBuffer;
  shape: number[];
  softmax: boolean;
}

export interface PoolResult {
  buffer: ArrayBuffer;
  shape: number[];
}

const { modelPath } = Piscina.workerData as { modelPath: string };
const model = await load(modelPath);

/** The result object, with its buffer in the transfer list instead of cloned. */
class Moved implements PoolResult {
  constructor(readonly buffer: ArrayBuffer, readonly shape: number[]) {}
  get [transferableSymbol]() { return [this.buffer]; }
  get [valueSymbol]() { return { buffer: this.buffer, shape: this.shape }; }
}

export default async function run(task: PoolTask | 'ready'): Promise<unknown> {
  if (task === 'ready') return true; // the pool's start-up check: the model loaded
  let y = await inferBatch(model, new Tensor(new Float32Array(task.buffer), task.shape));
  if (task.softmax) y = softmaxRows('workerPool', y);
  // The output's own buffer moves as it is when it is a plain V8 buffer: exactly the output,
  // and below 1 MiB, where host memory never comes from the addon's block cache (whose blocks
  // belong to this thread's cache). Anything else is copied once into a fresh buffer, then moved.
  const d = y.data;
  const own = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.byteLength < 1024 * 1024 && d.buffer instanceof ArrayBuffer;
  return Piscina.move(new Moved(own ? (d.buffer as ArrayBuffer) : d.slice().buffer, y.shape.slice()));
}
