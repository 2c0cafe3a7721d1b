// Pieces fit, evaluate and predict share: option checks, the loss and metrics, turning a
// dataset into batches, module modes, and yielding to the event loop.
import { checkInt } from '../check.js';
import { DataLoader } from '../data/loader.js';
import type { Dataset } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import { crossEntropy, nllLoss } from '../ops/loss.js';
import { describe, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { DataSource, LossFunction, LossName, MetricName } from './types.js';

export const LOSSES: Record<LossName, LossFunction> = { crossEntropy, nllLoss };
export const METRICS: readonly MetricName[] = ['accuracy'];

export function checkModel(op: string, model: unknown): Module {
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${describe(model)}`);
  return model;
}

export function checkLoss(op: string, loss: unknown): LossFunction {
  if (loss === undefined) return crossEntropy;
  if (typeof loss === 'function') return loss as LossFunction;
  if (typeof loss === 'string') {
    if (!Object.hasOwn(LOSSES, loss)) throw new RangeError(`${op}: unknown loss '${loss}' (expected one of ${Object.keys(LOSSES).join(', ')}, or a function (output, labels) => Tensor)`);
    return LOSSES[loss as LossName];
  }
  throw new TypeError(`${op}: loss must be a loss name or a function (output, labels) => Tensor, got ${describe(loss)}`);
}

/** Whether 'accuracy' is asked for. */
export function checkMetrics(op: string, metrics: unknown): boolean {
  if (metrics === undefined) return false;
  if (!Array.isArray(metrics)) throw new TypeError(`${op}: metrics must be an array like ['accuracy'], got ${describe(metrics)}`);
  for (const m of metrics) {
    if (typeof m !== 'string') throw new TypeError(`${op}: metrics must hold metric names, got ${describe(m)}`);
    if (!(METRICS as readonly string[]).includes(m)) throw new RangeError(`${op}: unknown metric '${m}' (expected one of ${METRICS.join(', ')})`);
  }
  return metrics.includes('accuracy');
}

/**
 * A DataLoader for source: itself when it is one (then batchSize and shuffle must be left
 * out: the loader decides them), else a new loader over the Dataset.
 */
export function toLoader(op: string, name: string, source: unknown, batchSize: unknown, defaultBatchSize: number, shuffle: unknown, defaultShuffle: boolean): DataLoader {
  if (source instanceof DataLoader) {
    if (batchSize !== undefined) throw new TypeError(`${op}: batchSize cannot be given with a DataLoader as ${name} (the loader sets its batch size: ${source.batchSize})`);
    if (shuffle !== undefined) throw new TypeError(`${op}: shuffle cannot be given with a DataLoader as ${name} (the loader decides: shuffle ${source.shuffle})`);
    if (source.length === 0) throw new RangeError(`${op}: ${name} yields no batches (dataset of ${source.dataset.length} samples)`);
    return source;
  }
  const d = source as Partial<Dataset> | null;
  if (d === null || typeof d !== 'object' || typeof d.get !== 'function' || typeof d.length !== 'number') {
    throw new TypeError(`${op}: ${name} must be a Dataset (e.g. TensorDataset, data.mnist()) or a DataLoader, got ${describe(source)}`);
  }
  const size = batchSize === undefined ? defaultBatchSize : checkInt(op, 'batchSize', batchSize, 1);
  if (shuffle !== undefined && typeof shuffle !== 'boolean') throw new TypeError(`${op}: shuffle must be a boolean, got ${describe(shuffle)}`);
  if (d.length === 0) throw new RangeError(`${op}: ${name} is empty`);
  return new DataLoader(d as Dataset, { batchSize: size, shuffle: (shuffle as boolean | undefined) ?? defaultShuffle });
}

/** The loss of one batch as a number, checking that the loss function returned a scalar tensor. */
export function checkLossValue(op: string, loss: unknown): Tensor {
  if (!(loss instanceof Tensor)) throw new TypeError(`${op}: the loss function must return a Tensor, got ${describe(loss)}`);
  if (loss.size !== 1) throw new RangeError(`${op}: the loss function must return a 1-element tensor (the batch mean), got shape ${formatShape(loss.shape)}`);
  return loss;
}

/** Every module's training flag, so that it can be put back exactly (a frozen BatchNorm stays frozen). */
export function saveModes(model: Module): Array<[Module, boolean]> {
  return model.namedModules().map(([, m]) => [m, m.training]);
}

export function restoreModes(modes: Array<[Module, boolean]>): void {
  // Parents come first and train() recurses, so setting each in order leaves every child as it was.
  for (const [m, training] of modes) m.train(training);
}

/** Lets timers and I/O run: awaited between batches so a server stays responsive while training. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** x on the model's device (a copy when the model lives on a GPU and the batch on the host). */
export function onModelDevice(model: Module, x: Tensor): Tensor {
  const device = model.device;
  return x.device === device ? x : x.to(device);
}
