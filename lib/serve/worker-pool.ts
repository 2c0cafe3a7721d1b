// A pool of worker threads (piscina) that each load the model file once and run whole batches,
// for CPU-bound serving across cores: the event loop of the main thread only routes requests.
// Tensors cross threads as transferred ArrayBuffers, never as structured-clone copies.
//
// piscina is a dependency because a correct pool is more than new Worker(): a task queue
// with limits, AbortSignal support, workers replaced when one dies, idle timeouts and a clean
// close; it is maintained by Node.js core contributors and has no dependencies of its own.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { checkBoolean, checkInt, checkOptions, checkTensor } from '../check.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { ClosedError } from './errors.js';
import type { PoolResult, PoolTask } from './pool-worker.js';

/** createWorkerPool()'s options. */
export interface WorkerPoolOptions {
  /** Worker threads (default: the cores less one, at least 1). Each holds its own copy of the weights. */
  threads?: number;
  /** Softmax over the classes of an [N, C] output (default false: raw outputs). */
  softmax?: boolean;
  /** Tasks waiting for a free worker before predict rejects (default Infinity, piscina's). */
  maxQueue?: number;
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
  const o = checkOptions<WorkerPoolOptions>(op, options, ['threads', 'softmax', 'maxQueue']);
  const threads = o.threads === undefined ? Math.max(1, availableParallelism() - 1) : checkInt(op, 'threads', o.threads, 1);
  const softmax = checkBoolean(op, 'softmax', o.softmax, false);
  const maxQueue = o.maxQueue === undefined ? Infinity : checkInt(op, 'maxQueue', o.maxQueue, 0);
  if (!existsSync(modelPath)) throw new RangeError(`${op}: no model file at '${modelPath}'`);
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, maxQueue, idleTimeout: Infinity, workerData: { modelPath } });
  // A worker that fails outside a task (its model file went bad, say) is replaced by piscina;
  // without a listener its 'error' event would end the process.
  pool.on('error', () => {});
  try {
    await pool.run('ready');
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  return new PiscinaPool(pool, threads, softmax);
}

class PiscinaPool implements WorkerPool {
  private closed = false;
  constructor(private readonly pool: Piscina, readonly threads: number, private readonly softmax: boolean) {}

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
    const task: PoolTask = { buffer, shape: x.shape.slice(), softmax: this.softmax };
    const result = (await this.pool.run(task, { transferList: [buffer], signal: o.signal ?? null })) as PoolResult;
    return new Tensor(new Float32Array(result.buffer), result.shape);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}
