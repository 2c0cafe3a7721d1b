// Serving: micro-batching, a worker pool, and image pixels to NCHW tensors.
export { createBatcher, type Batcher, type BatcherOptions, type BatcherStats, type InferFunction } from './batcher.js';
export { createWorkerPool, type WorkerPool, type WorkerPoolOptions, type WorkerPoolCallOptions } from './worker-pool.js';
export { fromImage, type FromImageOptions, type ChannelCount } from './from-image.js';
export { QueueFullError, ClosedError } from './errors.js';
export type { CallOptions } from './check-input.js';
