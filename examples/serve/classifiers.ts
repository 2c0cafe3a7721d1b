// What turns one upload into its class probabilities, for the HTTP side (app.ts): either the
// event loop decodes it and a batcher runs the model (one process), or a worker pool does both
// in one task per batch (--workers), so that the loop only parses HTTP.
import type { Batcher, WorkerPool } from '../../lib/index.js';
import { asHttpError } from './http-error.js';
import { pngToTensor } from './png-input.js';

export interface UploadClassifier {
  /** The class probabilities for one upload; an HttpError for a bad one. */
  classify(body: Buffer, signal?: AbortSignal): Promise<Float32Array>;
  /** Runs what waits now, without waiting for others to join a batch (a server shutting down calls it). */
  flush(): void;
  /** Refuses new uploads; resolves once those taken are answered. */
  close(): Promise<void>;
  /** For GET /metrics. */
  readonly stats: object;
}

/** Decodes on the event loop (app.ts spreads that over turns), then a batcher (created with softmax: true). */
export function batcherClassifier(batcher: Batcher, options: { mean: number | number[]; std: number | number[] }): UploadClassifier {
  const png = { inputShape: batcher.inputShape, mean: options.mean, std: options.std };
  return {
    async classify(body, signal) {
      return (await batcher.predict(pngToTensor(body, png), { signal })).data;
    },
    flush: () => batcher.flush(),
    close: () => batcher.close(),
    get stats() { return batcher.stats; },
  };
}

/**
 * A worker pool created with softmax and the PNG preprocess module (png-preprocess.ts): each
 * worker decodes the uploads of a turn and runs them as one batch (pool.predictRaw). The pool
 * sends as soon as a worker is free, so there is no batch to flush.
 */
export function poolClassifier(pool: WorkerPool): UploadClassifier {
  let answered = 0;
  return {
    async classify(body, signal) {
      const y = await pool.predictRaw(body, { signal }).catch((err: unknown) => { throw asHttpError(err); });
      answered++;
      return y.data;
    },
    flush: () => {},
    close: () => pool.close(),
    get stats() { return { workers: pool.threads, answered }; },
  };
}
