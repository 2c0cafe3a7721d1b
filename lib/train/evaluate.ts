// evaluate (mean loss and metrics over a dataset) and predict (outputs for a batch of inputs):
// both run the model in eval mode under noGrad, yield to the event loop between batches, and
// put every module's mode back as they found it.
import { noGrad } from '../autograd.js';
import { backendForDevice } from '../backend/registry.js';
import { checkBoolean, checkInt, checkOptions, checkTensor } from '../check.js';
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { Softmax } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { softmax } from '../ops/activation.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import {
  checkLoss, checkLossValue, checkMetrics, checkModel, restoreModes, saveModes, toLoader, yieldToEventLoop,
  onModelDevice,
} from './common.js';
import { BatchMetrics } from './batch-metrics.js';
import type { DataSource, EvaluateOptions, EvaluateResult, LossFunction, PredictOptions } from './types.js';

const EVAL_BATCH = 256;

/** Mean loss (weighted by batch size) and accuracy of model over loader, in the caller's mode and grad state. */
export async function runEvaluation(op: string, model: Module, loader: DataLoader, loss: LossFunction, accuracy: boolean): Promise<EvaluateResult> {
  const metrics = new BatchMetrics(op, accuracy);
  let samples = 0;
  let first = true;
  for (const { x, y } of loader) {
    if (!first) await yieldToEventLoop();
    first = false;
    const out = model.forward(onModelDevice(model, x));
    await metrics.add(checkLossValue(op, loss(out, y)), out, y);
    samples += y.length;
  }
  await metrics.settle();
  const result: EvaluateResult = { loss: metrics.loss, samples };
  if (accuracy) result.accuracy = metrics.accuracy;
  return result;
}

/** Runs fn with model in eval mode and no tape, restoring every module's mode afterwards. */
export async function inEvalMode<T>(model: Module, fn: () => Promise<T>): Promise<T> {
  const modes = saveModes(model);
  model.eval();
  try {
    return await noGrad(fn);
  } finally {
    restoreModes(modes);
  }
}

/** The mean loss and the metrics of model over data, in eval mode without gradients. */
export async function evaluate(model: Module, data: DataSource, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const op = 'evaluate';
  checkModel(op, model);
  const o = checkOptions<EvaluateOptions>(op, options, ['batchSize', 'loss', 'metrics']);
  const loss = checkLoss(op, o.loss);
  const accuracy = checkMetrics(op, o.metrics);
  const loader = toLoader(op, 'data', data, o.batchSize, EVAL_BATCH, undefined, false);
  return inEvalMode(model, () => runEvaluation(op, model, loader, loss, accuracy));
}

/** Whether the model already ends in a Softmax layer (its outputs are probabilities). */
function endsInSoftmax(model: Module): boolean {
  let m: Module = model;
  while (m instanceof Sequential && m.length > 0) m = m[m.length - 1];
  return m instanceof Softmax;
}

/**
 * The model's outputs for x [N, ...], computed batchSize rows at a time and stacked into one
 * [N, ...] tensor: softmax probabilities over the classes of an [N, C] output (unless the
 * model ends in Softmax already), or the raw outputs with { raw: true }.
 */
export async function predict(model: Module, x: Tensor, options: PredictOptions = {}): Promise<Tensor> {
  const op = 'predict';
  checkModel(op, model);
  checkTensor(op, 'x', x).checkLive(op);
  if (x.ndim < 1 || x.shape[0] === 0) throw new RangeError(`${op}: x must be a batch [N, ...] with N >= 1, got shape ${formatShape(x.shape)}`);
  const o = checkOptions<PredictOptions>(op, options, ['batchSize', 'raw']);
  const batchSize = o.batchSize === undefined ? EVAL_BATCH : checkInt(op, 'batchSize', o.batchSize, 1);
  const raw = checkBoolean(op, 'raw', o.raw, false);
  const applySoftmax = !raw && !endsInSoftmax(model);
  const n = x.shape[0];
  const rowShape = x.shape.slice(1);
  const rowSize = x.size / n;
  return inEvalMode(model, async () => {
    let out: Float32Array | null = null;
    let outShape: number[] = [];
    let outRow = 0;
    for (let start = 0; start < n; start += batchSize) {
      if (start > 0) await yieldToEventLoop();
      const end = Math.min(start + batchSize, n);
      // A view of the rows, not a copy.
      const rows = start === 0 && end === n ? x : new Tensor(viewRows(x, start * rowSize, (end - start) * rowSize), [end - start, ...rowShape]);
      const batch = onModelDevice(model, rows);
      let y = model.forward(batch);
      if (y.ndim < 1 || y.shape[0] !== end - start) {
        throw new RangeError(`${op}: the model's output for a batch of ${end - start} must have ${end - start} rows, got shape ${formatShape(y.shape)}`);
      }
      if (applySoftmax) {
        if (y.ndim !== 2) throw new RangeError(`${op}: softmax probabilities need an output [N, classes], but the model returns ${formatShape(y.shape)}; pass { raw: true } for the raw output`);
        y = softmax(y, 1);
      }
      if (out === null) {
        outShape = [n, ...y.shape.slice(1)];
        outRow = y.size / (end - start);
        if (end === n) return y.device === 'cpu' ? y : y.to('cpu'); // one batch: its output is the answer
        out = new Float32Array(n * outRow);
      } else if (y.size !== (end - start) * outRow) {
        throw new RangeError(`${op}: the model's output rows changed shape between batches (${formatShape(outShape.slice(1))} then ${formatShape(y.shape.slice(1))})`);
      }
      out.set(y.device === 'cpu' ? y.data : await y.toArrayAsync(), start * outRow);
    }
    return new Tensor(out!, outShape);
  });
}

/** Elements [offset, offset + length) of x's storage, shared (no copy). */
function viewRows(x: Tensor, offset: number, length: number) {
  return backendForDevice(x.device).view(x.storage, offset, length);
}
