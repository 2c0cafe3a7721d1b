// A pool of worker threads (piscina) that each load the model file once and run whole batches,
// for CPU-bound serving across cores: the event loop of the main thread only routes requests.
// Tensors cross threads as transferred ArrayBuffers, never as structured-clone copies.
// With a preprocess module the workers also turn raw inputs (PNG bytes, say) into samples, so
// decoding, its CPU time and its garbage stay off the main thread too.
//
// piscina is a dependency because a correct pool is more than new Worker(): a task queue
// with limits, AbortSignal support, workers replaced when one dies, idle timeouts and a clean
// close; it is maintained by Node.js core contributors and has no dependencies of its own.
import { existsSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { checkBoolean, checkInt, checkOptions, checkTensor } from '../check.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkCallOptions, type CallOptions } from './check-input.js';
import { ClosedError, QueueFullError } from './errors.js';
import type { PoolResult, PoolTask, PreprocessResult, PreprocessTask, ThrownError } from './pool-worker.js';

/** createWorkerPool()'s options. */
export interface WorkerPoolOptions {
  /** Worker threads (default: the cores less one, at least 1). Each holds its own copy of the weights. */
  threads?: number;
  /** Softmax over the classes of an [N, C] output (default false: raw outputs). */
  softmax?: boolean;
  /**
   * Tasks waiting for a free worker before predict rejects, and raw inputs waiting to be sent
   * before preprocess and predictRaw reject with QueueFullError (default Infinity).
   */
  maxQueue?: number;
  /** The most raw inputs one preprocess or predictRaw task carries (default 64). */
  maxBatch?: number;
  /**
   * A module (a path or a file URL) that each worker imports once, for `pool.preprocess`: its
   * default export turns one raw input into one sample, `(input: Buffer, options) => Tensor`
   * (or a Promise of one), for example a PNG decoder followed by `fromImage`.
   */
  preprocess?: string | URL;
  /** The second argument of the preprocess function (structured-cloned into each worker). */
  preprocessOptions?: unknown;
  /**
   * The workers' scheduling priority: a nice value as `os.setPriority` takes it (19 lowest, 0
   * normal), or 'idle'. Default 10 (`os.constants.priority.PRIORITY_BELOW_NORMAL`): where the
   * workers and the event loop share cores, the loop runs first, so its delay stays small while
   * the workers keep the cores busy; the workers also run under SCHED_BATCH, so that the
   * loop's messages waking them do not preempt it. 'idle' (SCHED_IDLE) runs them only on CPU
   * time that no other thread wants: the loop never waits for them, but any other busy process
   * on the machine starves them, so it suits a machine that serves and does little else. Only
   * on Linux, where each thread has its own; a nice value is never raised (that needs
   * privileges).
   */
  priority?: number | 'idle';
}

/** The options of one WorkerPool.predict call. */
export interface WorkerPoolCallOptions {
  signal?: AbortSignal;
  /**
   * Move x's buffer to the worker instead of copying it (default false). x is then detached:
   * using it again is a TypeError. Worth it for large batches the caller is done with.
   */
  transfer?: boolean;
}

/** Worker threads that each load the model file once and run batches on it (see createWorkerPool). */
export interface WorkerPool {
  /** The outputs for a batch x [N, ...] (a host tensor), run by one worker in eval mode. */
  predict(x: Tensor, options?: WorkerPoolCallOptions): Promise<Tensor>;
  /**
   * One sample made from raw bytes (an upload, a file) by the pool's preprocess module, in a
   * worker. Inputs given in the same turn of the event loop go to one worker together (and,
   * while every worker has such a task, those of later turns wait and go together), copied
   * once into one buffer that is moved; the samples come back as views of one moved buffer.
   * What the module throws rejects this call alone, as an Error with the same name, message
   * and own enumerable primitive properties (a `status`, a `code`).
   */
  preprocess(input: Uint8Array, options?: CallOptions): Promise<Tensor>;
  /**
   * The model's output for one raw input: the preprocess module makes the sample and the model
   * runs it, in one worker task. The inputs travel together as preprocess's do (up to
   * `maxBatch` in one task), and their samples run as one batch: a server needs no batcher, and
   * each batch costs one message hop instead of two. The module must return one sample as a
   * batch of one, [1, ...] (as fromImage does); the answer is that sample's row, [1, ...] (with
   * softmax: true, its probabilities). A failing input rejects alone, as in preprocess.
   */
  predictRaw(input: Uint8Array, options?: CallOptions): Promise<Tensor>;
  /** Lets running and queued tasks finish, then stops the threads. */
  close(): Promise<void>;
  readonly threads: number;
}

/** The worker's file: the compiled .js next to this module, or, from the TypeScript source (tests, tsx), a loader for the .ts. */
function workerFile(): string {
  const js = new URL('./pool-worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js.href : new URL('./pool-worker-dev.mjs', import.meta.url).href;
}

/** Starts `threads` workers on the model file; resolves once the model has loaded (load's errors reject it). */
export async function createWorkerPool(modelPath: string, options: WorkerPoolOptions = {}): Promise<WorkerPool> {
  const op = 'createWorkerPool';
  if (typeof modelPath !== 'string' || modelPath === '') throw new TypeError(`${op}: modelPath must be a non-empty string, got ${describe(modelPath)}`);
  const o = checkOptions<WorkerPoolOptions>(op, options, ['threads', 'softmax', 'maxQueue', 'maxBatch', 'preprocess', 'preprocessOptions', 'priority']);
  const threads = o.threads === undefined ? Math.max(1, availableParallelism() - 1) : checkInt(op, 'threads', o.threads, 1);
  const softmax = checkBoolean(op, 'softmax', o.softmax, false);
  const maxQueue = o.maxQueue === undefined ? Infinity : checkInt(op, 'maxQueue', o.maxQueue, 0);
  const maxBatch = o.maxBatch === undefined ? 64 : checkInt(op, 'maxBatch', o.maxBatch, 1);
  if (typeof o.priority === 'string' && o.priority !== 'idle') throw new TypeError(`${op}: priority must be a nice value in [0, 19] or 'idle', got ${describe(o.priority)}`);
  const priority = o.priority === undefined ? constants.priority.PRIORITY_BELOW_NORMAL : o.priority === 'idle' ? 'idle' : checkInt(op, 'priority', o.priority, 0);
  if (typeof priority === 'number' && priority > 19) throw new RangeError(`${op}: priority must be in [0, 19] (19 lowest) or 'idle', got ${priority}`);
  if (!existsSync(modelPath)) throw new RangeError(`${op}: no model file at '${modelPath}'`);
  const preprocess = o.preprocess === undefined ? null : moduleUrl(op, o.preprocess);
  const workerData = { modelPath, preprocess, preprocessOptions: o.preprocessOptions, priority };
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, maxQueue, idleTimeout: Infinity, workerData });
  // A worker that fails outside a task (its model file went bad, say) is replaced by piscina;
  // without a listener its 'error' event would end the process.
  pool.on('error', () => {});
  try {
    await pool.run('ready');
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  return new PiscinaPool(pool, { threads, softmax, hasPreprocess: preprocess !== null, maxQueue, maxBatch });
}

/** The preprocess module as a file URL that a worker can import. */
function moduleUrl(op: string, value: unknown): string {
  if (value instanceof URL) value = fileURLToPath(value);
  if (typeof value !== 'string' || value === '') throw new TypeError(`${op}: preprocess must be a module path or file URL, got ${describe(value)}`);
  const path = value.startsWith('file:') ? fileURLToPath(value) : resolve(value);
  if (!existsSync(path)) throw new RangeError(`${op}: no preprocess module at '${path}'`);
  return pathToFileURL(path).href;
}

interface PendingInput {
  input: Uint8Array;
  resolve(t: Tensor): void;
  reject(err: unknown): void;
  settled: boolean;
}

interface PoolSettings {
  threads: number;
  softmax: boolean;
  hasPreprocess: boolean;
  maxQueue: number;
  maxBatch: number;
}

/** Raw inputs become samples (preprocess) or the model's outputs for them (predictRaw). */
type RawKind = 'samples' | 'outputs';

class PiscinaPool implements WorkerPool {
  private closed = false;
  private readonly waiting: Record<RawKind, PendingInput[]> = { samples: [], outputs: [] };
  private sending = 0; // raw-input tasks in flight
  private sendScheduled = false;
  private onIdle: (() => void) | null = null; // close() waits for the raw inputs taken
  readonly threads: number;
  constructor(private readonly pool: Piscina, private readonly settings: PoolSettings) {
    this.threads = settings.threads;
  }

  async predict(x: Tensor, options?: WorkerPoolCallOptions): Promise<Tensor> {
    const op = 'workerPool.predict';
    checkTensor(op, 'x', x).checkLive(op);
    if (x.device !== 'cpu') throw new RangeError(`${op}: x must be on the cpu device, got ${x.device}`);
    if (x.ndim < 1 || x.shape[0] === 0) throw new RangeError(`${op}: x must be a batch [N, ...] with N >= 1, got shape ${formatShape(x.shape)}`);
    const o = checkOptions<WorkerPoolCallOptions>(op, options, ['signal', 'transfer']);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`${op}: signal must be an AbortSignal, got ${describe(o.signal)}`);
    const transfer = checkBoolean(op, 'transfer', o.transfer, false);
    if (this.closed) throw new ClosedError('workerPool');
    const d = x.data;
    // Moved as is only when asked and when x is its whole buffer; else one copy, which is moved.
    const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
    const buffer = transfer && whole ? (d.buffer as ArrayBuffer) : d.slice().buffer;
    const task: PoolTask = { buffer, shape: x.shape.slice(), softmax: this.settings.softmax };
    const result = (await this.pool.run(task, { transferList: [buffer], signal: o.signal ?? null })) as PoolResult;
    return new Tensor(new Float32Array(result.buffer), result.shape);
  }

  preprocess(input: Uint8Array, options?: CallOptions): Promise<Tensor> {
    return this.raw('workerPool.preprocess', 'samples', input, options);
  }

  predictRaw(input: Uint8Array, options?: CallOptions): Promise<Tensor> {
    return this.raw('workerPool.predictRaw', 'outputs', input, options);
  }

  private raw(op: string, kind: RawKind, input: Uint8Array, options?: CallOptions): Promise<Tensor> {
    try {
      if (!(input instanceof Uint8Array)) throw new TypeError(`${op}: input must be a Uint8Array or Buffer, got ${describe(input)}`);
      const signal = checkCallOptions(op, options);
      if (!this.settings.hasPreprocess) throw new TypeError(`${op}: this pool has no preprocess module (createWorkerPool's preprocess option)`);
      if (this.closed) throw new ClosedError('workerPool');
      if (signal?.aborted) return Promise.reject(signal.reason);
      const queue = this.waiting[kind];
      if (queue.length >= this.settings.maxQueue) throw new QueueFullError(this.settings.maxQueue, 'workerPool');
      return new Promise<Tensor>((resolve, reject) => {
        const pending: PendingInput = { input, resolve, reject, settled: false };
        if (signal) {
          // The worker's answer is dropped; rejecting now is all a caller can observe. The
          // listener goes once settled: a signal may outlive many calls (one per connection).
          const onAbort = () => settle(pending, () => reject(signal.reason));
          signal.addEventListener('abort', onAbort, { once: true });
          pending.resolve = (t) => { signal.removeEventListener('abort', onAbort); resolve(t); };
          pending.reject = (err) => { signal.removeEventListener('abort', onAbort); reject(err); };
        }
        queue.push(pending);
        this.scheduleSend();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends what waits at the end of this turn, while fewer tasks than workers are in flight;
   * else when one comes back. So the inputs of a turn travel together, and under load, when
   * the workers are busy, the inputs of several turns do: fewer, larger messages.
   */
  private scheduleSend(): void {
    if (this.sendScheduled || this.sending >= this.threads || !this.nextKind()) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      for (let kind = this.nextKind(); kind && this.sending < this.threads; kind = this.nextKind()) {
        this.sending++;
        void this.sendInputs(kind, this.waiting[kind].splice(0, this.settings.maxBatch)).finally(() => {
          this.sending--;
          this.scheduleSend();
          if (this.sending === 0 && !this.nextKind()) this.onIdle?.();
        });
      }
    });
  }

  /** Which inputs go next: predictRaw's first, since each of them is a whole request waiting. */
  private nextKind(): RawKind | null {
    return this.waiting.outputs.length > 0 ? 'outputs' : this.waiting.samples.length > 0 ? 'samples' : null;
  }

  private async sendInputs(kind: RawKind, items: PendingInput[]): Promise<void> {
    const live = items.filter((it) => !it.settled);
    if (live.length === 0) return;
    const ends: number[] = [];
    let size = 0;
    for (const it of live) ends.push((size += it.input.byteLength));
    const bytes = new Uint8Array(size);
    live.forEach((it, i) => bytes.set(it.input, i === 0 ? 0 : ends[i - 1]!));
    const task: PreprocessTask = { buffer: bytes.buffer, ends, predict: kind === 'outputs', softmax: this.settings.softmax };
    let result: PreprocessResult;
    try {
      result = (await this.pool.run(task, { transferList: [bytes.buffer] })) as PreprocessResult;
    } catch (err) {
      for (const it of live) settle(it, () => it.reject(err));
      return;
    }
    let offset = 0;
    live.forEach((it, i) => {
      const shape = result.shapes[i];
      if (!shape) return settle(it, () => it.reject(rebuildError(result.errors[i]!)));
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(result.buffer, offset * 4, n);
      offset += n;
      settle(it, () => it.resolve(new Tensor(data, shape)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.sending > 0 || this.nextKind()) await new Promise<void>((resolve) => { this.onIdle = resolve; });
    this.onIdle = null;
    await this.pool.close();
  }
}

function settle(it: PendingInput, done: () => void): void {
  if (it.settled) return;
  it.settled = true;
  done();
}

/** What a preprocess function threw, rebuilt on this side of the thread boundary. */
function rebuildError({ name, message, props }: ThrownError): Error {
  const err = name === 'TypeError' ? new TypeError(message) : name === 'RangeError' ? new RangeError(message) : new Error(message);
  if (err.name !== name) err.name = name;
  return Object.assign(err, props);
}
