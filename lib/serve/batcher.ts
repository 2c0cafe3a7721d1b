// Micro-batching: concurrent single-sample requests are queued, coalesced into one batch
// (up to maxBatch samples, waiting at most maxDelayMs after the oldest arrived), run through
// the one-batch inference function, and each caller gets its own row back. One forward of 32
// samples costs far less than 32 forwards of one, so a busy server answers more requests per
// second, at the price of up to maxDelayMs of latency when it is quiet.
//
// Back-pressure: at most maxQueue requests wait; past that predict rejects at once with a
// QueueFullError (a server answers 503), instead of letting memory and latency grow without
// bound. Cancellation: an aborted request leaves the queue (or, when its batch already runs,
// its row is dropped) and rejects with signal.reason.
import { checkBoolean, checkFiniteNumber, checkInt, checkOptions } from '../check.js';
import { Module } from '../nn/module.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { inferBatch } from '../train/infer-batch.js';
import { checkSoftmaxOption, softmaxRows } from '../train/softmax-option.js';
import { checkCallOptions, checkInputShape, checkSample, type CallOptions } from './check-input.js';
import { ClosedError, QueueFullError } from './errors.js';

/** Runs one batch [N, ...inputShape] and resolves to its outputs [N, ...]. */
export type InferFunction = (x: Tensor) => Promise<Tensor>;

/** createBatcher()'s options. */
export interface BatcherOptions {
  /** One sample's shape without the batch dimension, e.g. [1, 32, 32] (required). */
  inputShape: number[];
  /** The most samples in one batch (default 32). */
  maxBatch?: number;
  /** How long the oldest request may wait for others to join its batch, in ms (default 2). */
  maxDelayMs?: number;
  /** The most requests waiting (not yet in a running batch); past it predict rejects with QueueFullError (default 1024). */
  maxQueue?: number;
  /** Batches run at once (default 1: the next batch gathers while one runs). */
  concurrency?: number;
  /** Softmax over the classes of each output [classes] (default false: raw outputs). */
  softmax?: boolean;
}

/** What a batcher has done so far, and what waits. */
export interface BatcherStats {
  /** Requests waiting for a batch. */
  queued: number;
  /** Batches running now. */
  running: number;
  /** Batches run so far, and the samples they held. */
  batches: number;
  samples: number;
  /** The largest batch run so far. */
  largestBatch: number;
  /** Requests rejected because the queue was full. */
  rejected: number;
}

/** Coalesces concurrent single-sample requests into batches (see createBatcher). */
export interface Batcher {
  /**
   * The output for one sample x ([...inputShape] or [1, ...inputShape]; the result has the
   * same leading 1 or not). x is copied when the call is made, so it may be reused at once.
   */
  predict(x: Tensor, options?: CallOptions): Promise<Tensor>;
  /** Runs what is queued now, without waiting for maxDelayMs (a server shutting down calls it). */
  flush(): void;
  /** Stops taking requests (they reject with ClosedError); resolves once every queued and running one has settled. */
  close(): Promise<void>;
  readonly stats: Readonly<BatcherStats>;
  readonly inputShape: readonly number[];
}

interface Request {
  sample: Float32Array;
  batched: boolean;
  resolve(t: Tensor): void;
  reject(err: unknown): void;
  settled: boolean;
  queuedAt: number;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const OPTION_NAMES = ['inputShape', 'maxBatch', 'maxDelayMs', 'maxQueue', 'concurrency', 'softmax'] as const;

/**
 * A batcher over model (run in eval mode through inferBatch) or over any function that runs one
 * batch (an ONNX Runtime session, a worker pool).
 */
export function createBatcher(model: Module | InferFunction, options: BatcherOptions): Batcher {
  const op = 'createBatcher';
  if (!(model instanceof Module) && typeof model !== 'function') {
    throw new TypeError(`${op}: model must be an nn.Module or a function (batch) => Promise<Tensor>, got ${describe(model)}`);
  }
  if (options === undefined) throw new TypeError(`${op}: options must be given, with at least { inputShape }`);
  const o = checkOptions<BatcherOptions>(op, options, OPTION_NAMES);
  const inputShape = checkInputShape(op, o.inputShape);
  const maxBatch = o.maxBatch === undefined ? 32 : checkInt(op, 'maxBatch', o.maxBatch, 1);
  const maxDelayMs = o.maxDelayMs === undefined ? 2 : checkFiniteNumber(op, 'maxDelayMs', o.maxDelayMs);
  if (maxDelayMs < 0) throw new RangeError(`${op}: maxDelayMs must be >= 0, got ${maxDelayMs}`);
  const maxQueue = o.maxQueue === undefined ? 1024 : checkInt(op, 'maxQueue', o.maxQueue, 1);
  const concurrency = o.concurrency === undefined ? 1 : checkInt(op, 'concurrency', o.concurrency, 1);
  const softmax = model instanceof Module ? checkSoftmaxOption(op, model, o, o.softmax) : checkBoolean(op, 'softmax', o.softmax, false);
  const infer: InferFunction = model instanceof Module ? (x) => inferBatch(model, x) : model;
  return new MicroBatcher(infer, inputShape, maxBatch, maxDelayMs, maxQueue, concurrency, softmax);
}

class MicroBatcher implements Batcher {
  private readonly queue: Request[] = [];
  private readonly sampleSize: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private closed = false;
  private flushing = false;
  private drained: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;
  readonly stats: BatcherStats = { queued: 0, running: 0, batches: 0, samples: 0, largestBatch: 0, rejected: 0 };

  constructor(
    private readonly infer: InferFunction,
    readonly inputShape: readonly number[],
    private readonly maxBatch: number,
    private readonly maxDelayMs: number,
    private readonly maxQueue: number,
    private readonly concurrency: number,
    private readonly softmax: boolean,
  ) {
    this.sampleSize = inputShape.reduce((a, b) => a * b, 1);
  }

  predict(x: Tensor, options?: CallOptions): Promise<Tensor> {
    const op = 'batcher.predict';
    try {
      const batched = checkSample(op, x, this.inputShape);
      const signal = checkCallOptions(op, options);
      if (this.closed) throw new ClosedError('batcher');
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (this.queue.length >= this.maxQueue) {
        this.stats.rejected++;
        throw new QueueFullError(this.maxQueue);
      }
      return new Promise<Tensor>((resolve, reject) => {
        const req: Request = { sample: x.data.slice(), batched, resolve, reject, settled: false, queuedAt: performance.now(), signal };
        if (signal) {
          req.onAbort = () => this.abort(req);
          signal.addEventListener('abort', req.onAbort, { once: true });
        }
        this.queue.push(req);
        this.stats.queued = this.queue.length;
        this.wake();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  flush(): void {
    this.flushing = true;
    this.wake();
  }

  close(): Promise<void> {
    this.closed = true;
    if (!this.drained) {
      this.drained = new Promise<void>((resolve) => { this.onDrained = resolve; });
      this.wake(); // run what is queued now, without waiting for maxDelayMs
      this.checkDrained();
    }
    return this.drained;
  }

  /** Schedules the next look at the queue: at once when a batch is full (or closing), else when the oldest request's delay ends. */
  private wake(): void {
    if (this.queue.length === 0) this.flushing = false;
    if (this.queue.length === 0 || this.stats.running >= this.concurrency) return;
    const full = this.queue.length >= this.maxBatch || this.closed || this.flushing;
    const wait = full ? 0 : this.maxDelayMs - (performance.now() - this.queue[0]!.queuedAt);
    if (wait <= 0) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      // Never run a batch inside predict(): the caller's own code comes first, and more requests may join.
      this.immediate ??= setImmediate(() => { this.immediate = null; this.dispatch(); });
    } else {
      this.timer ??= setTimeout(() => { this.timer = null; this.dispatch(); }, wait);
    }
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.stats.running < this.concurrency) {
      const full = this.queue.length >= this.maxBatch || this.closed || this.flushing;
      if (!full && performance.now() - this.queue[0]!.queuedAt < this.maxDelayMs) break;
      void this.run(this.queue.splice(0, this.maxBatch));
    }
    this.stats.queued = this.queue.length;
    this.wake();
  }

  private async run(batch: Request[]): Promise<void> {
    const n = batch.length;
    this.stats.running++;
    this.stats.batches++;
    this.stats.samples += n;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, n);
    try {
      const input = new Float32Array(n * this.sampleSize);
      batch.forEach((r, i) => input.set(r.sample, i * this.sampleSize));
      let y = await this.infer(new Tensor(input, [n, ...this.inputShape]));
      if (!(y instanceof Tensor)) throw new TypeError(`batcher: the inference function must resolve to a Tensor, got ${describe(y)}`);
      if (y.ndim < 1 || y.shape[0] !== n) throw new RangeError(`batcher: the output for a batch of ${n} must have ${n} rows, got shape ${formatShape(y.shape)}`);
      if (this.softmax) y = softmaxRows('batcher', y);
      const data = y.device === 'cpu' ? y.data : await y.toArrayAsync();
      const rowShape = y.shape.slice(1);
      const row = data.length / n;
      batch.forEach((r, i) => {
        // Each caller gets its own copy of its row (safe to keep, dispose or transfer).
        this.settle(r, () => r.resolve(new Tensor(data.slice(i * row, (i + 1) * row), r.batched ? [1, ...rowShape] : rowShape)));
      });
    } catch (err) {
      for (const r of batch) this.settle(r, () => r.reject(err));
    } finally {
      this.stats.running--;
      this.wake();
      this.checkDrained();
    }
  }

  private abort(req: Request): void {
    const i = this.queue.indexOf(req);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.stats.queued = this.queue.length;
    }
    this.settle(req, () => req.reject(req.signal!.reason));
    this.checkDrained();
  }

  private settle(req: Request, done: () => void): void {
    if (req.settled) return;
    req.settled = true;
    if (req.onAbort) req.signal!.removeEventListener('abort', req.onAbort);
    done();
  }

  private checkDrained(): void {
    if (this.closed && this.onDrained && this.queue.length === 0 && this.stats.running === 0) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      this.onDrained();
      this.onDrained = null;
    }
  }
}
