// One thread of the worker pool (worker-pool.ts): loads the model file (and the preprocess
// module, if any) once, when the thread starts, then runs batches and preprocesses inputs. Inputs arrive and outputs leave as transferred ArrayBuffers, so a
// tensor's bytes move between threads without a structured-clone copy.
import { getPriority, setPriority } from 'node:os';
import { Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { scheduleThisThread } from '../backend/registry.js';
import { load } from '../io/model-file.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { inferBatchSync } from '../train/infer-batch.js';
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

/**
 * Raw inputs packed in one buffer: input i is bytes [ends[i - 1] ?? 0, ends[i]). With predict,
 * their samples then run through the model as one batch (softmax over its rows when asked).
 */
export interface PreprocessTask {
  buffer: ArrayBuffer;
  ends: number[];
  predict: boolean;
  softmax: boolean;
}

/** Every sample's data (or output row's, with predict) in one buffer, in order; a failed input has no shape and an error instead. */
export interface PreprocessResult {
  buffer: ArrayBuffer;
  shapes: Array<number[] | null>;
  errors: Array<ThrownError | null>;
}

/** An error as it crosses threads: structured clone would drop its own properties (an HTTP status). */
export interface ThrownError {
  name: string;
  message: string;
  props: Record<string, string | number | boolean>;
}

type PreprocessFunction = (input: Buffer, options: unknown) => Tensor | Promise<Tensor>;

const { modelPath, preprocess, preprocessOptions, priority } = Piscina.workerData as { modelPath: string; preprocess: string | null; preprocessOptions: unknown; priority: number | 'idle' };
if (priority === 'idle') {
  // Only on CPU time nobody else wants: the event loop, and anything else, always goes first.
  scheduleThisThread('idle');
} else {
  // Below the event loop's priority, so that the loop runs first when they share a core: on 2
  // cores under load, its delay p99 went from 11-12 ms to 5-7 ms at the same requests/s. Only on
  // Linux, where setPriority(0, n) sets this thread's nice value; elsewhere it sets the whole
  // process's, the event loop's too. Never raised: that needs privileges.
  if (process.platform === 'linux' && priority > getPriority()) setPriority(priority);
  // And under SCHED_BATCH, as convkit's compute threads: the event loop's message wakes this
  // thread, which then does not preempt the loop on its core (Linux; a no-op elsewhere).
  scheduleThisThread('batch');
}
const model = await load(modelPath);
const prepare = preprocess === null ? null : await importPreprocess(preprocess);

async function importPreprocess(url: string): Promise<PreprocessFunction> {
  const fn = ((await import(url)) as { default?: unknown }).default;
  if (typeof fn !== 'function') throw new TypeError(`createWorkerPool: the preprocess module ${url} must export a default function (input, options) => Tensor, got ${typeof fn}`);
  return fn as PreprocessFunction;
}

/** The result object, with its buffer in the transfer list instead of cloned. */
class Moved implements PoolResult {
  constructor(readonly buffer: ArrayBuffer, readonly shape: number[]) {}
  get [transferableSymbol]() { return [this.buffer]; }
  get [valueSymbol]() { return { buffer: this.buffer, shape: this.shape }; }
}

export default async function run(task: PoolTask | PreprocessTask | 'ready'): Promise<unknown> {
  if (task === 'ready') return true; // the pool's start-up check: the model loaded
  if ('ends' in task) return task.predict ? predictAll(task) : preprocessAll(task);
  const y = forward(new Tensor(new Float32Array(task.buffer), task.shape), task.softmax);
  // The output's own buffer moves as it is when it is a plain V8 buffer: exactly the output,
  // and below 1 MiB, where host memory never comes from the addon's block cache (whose blocks
  // belong to this thread's cache). Anything else is copied once into a fresh buffer, then moved.
  const d = y.data;
  const own = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.byteLength < 1024 * 1024 && d.buffer instanceof ArrayBuffer;
  return Piscina.move(new Moved(own ? (d.buffer as ArrayBuffer) : d.slice().buffer, y.shape.slice()));
}

/** This thread is there to block: the forward runs on it, not on the libuv pool. */
function forward(x: Tensor, softmax: boolean): Tensor {
  const y = inferBatchSync(model, x);
  return softmax ? softmaxRows('workerPool', y) : y;
}

/** Each input's sample, or what the preprocess function threw for it. */
async function prepareAll({ buffer, ends }: PreprocessTask, op: string): Promise<Array<Tensor | ThrownError>> {
  const out: Array<Tensor | ThrownError> = [];
  let start = 0;
  for (const end of ends) {
    try {
      const t = await prepare!(Buffer.from(buffer, start, end - start), preprocessOptions);
      if (!(t instanceof Tensor) || t.device !== 'cpu') throw new TypeError(`${op}: the preprocess function must return a host Tensor, got ${t instanceof Tensor ? `one on ${t.device}` : typeof t}`);
      out.push(t);
    } catch (err) {
      out.push(thrown(err));
    }
    start = end;
  }
  return out;
}

async function preprocessAll(task: PreprocessTask): Promise<unknown> {
  const prepared = await prepareAll(task, 'workerPool.preprocess');
  const samples = prepared.filter((p): p is Tensor => p instanceof Tensor);
  const out = new Float32Array(samples.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of samples) { out.set(t.data, offset); offset += t.size; }
  return moveResult(out, prepared.map((p) => (p instanceof Tensor ? p.shape.slice() : null)), prepared);
}

/** The samples of one task run as one batch; each input gets its row [1, ...]. */
async function predictAll(task: PreprocessTask): Promise<unknown> {
  const op = 'workerPool.predictRaw';
  const prepared = await prepareAll(task, op);
  const first = prepared.find((p): p is Tensor => p instanceof Tensor);
  if (first && first.shape[0] !== 1) prepared[prepared.indexOf(first)] = thrown(new TypeError(`${op}: the preprocess function must return one sample as a batch of one, [1, ...], got ${formatShape(first.shape)}`));
  const good = first && first.shape[0] === 1 ? first.shape : null;
  // A sample shaped unlike the first good one cannot join its batch: that input fails alone.
  for (const [i, p] of prepared.entries()) {
    if (p instanceof Tensor && !(good && sameShape(p.shape, good))) prepared[i] = thrown(new TypeError(`${op}: the preprocess function returned ${formatShape(p.shape)} for this input and ${good ? formatShape(good) : 'no batch of one'} for the batch's first`));
  }
  const samples = prepared.filter((p): p is Tensor => p instanceof Tensor);
  if (samples.length === 0) return moveResult(new Float32Array(0), prepared.map(() => null), prepared);
  const x = new Float32Array(samples.length * samples[0]!.size);
  samples.forEach((t, i) => x.set(t.data, i * t.size));
  const y = forward(new Tensor(x, [samples.length, ...good!.slice(1)]), task.softmax);
  const row = [1, ...y.shape.slice(1)];
  return moveResult(y.data.slice(), prepared.map((p) => (p instanceof Tensor ? row : null)), prepared);
}

function moveResult(data: Float32Array, shapes: Array<number[] | null>, prepared: Array<Tensor | ThrownError>): unknown {
  const errors = prepared.map((p) => (p instanceof Tensor ? null : p));
  return Piscina.move(new MovedSamples(data.buffer as ArrayBuffer, shapes, errors));
}

class MovedSamples implements PreprocessResult {
  constructor(readonly buffer: ArrayBuffer, readonly shapes: Array<number[] | null>, readonly errors: Array<ThrownError | null>) {}
  get [transferableSymbol]() { return [this.buffer]; }
  get [valueSymbol]() { return { buffer: this.buffer, shapes: this.shapes, errors: this.errors }; }
}

function thrown(err: unknown): ThrownError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), props: {} };
  const props: ThrownError['props'] = {};
  for (const [k, v] of Object.entries(err)) if (['string', 'number', 'boolean'].includes(typeof v)) props[k] = v as string | number | boolean;
  return { name: err.name, message: err.message, props };
}
