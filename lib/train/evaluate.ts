// evaluate (mean loss and metrics over a dataset) and predict (outputs for a batch of inputs):
// both run each batch in eval mode under noGrad as one synchronous section (infer-batch.ts),
// so concurrent calls on one model never see each other's modes, and yield to the event loop
// between batches.
import { noGrad } from '../autograd.js';
import { backendForDevice } from '../backend/registry.js';
import { checkInt, checkOptions, checkTensor } from '../check.js';
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkLoss, checkLossValue, checkMetrics, checkModel, toLoader, yieldToEventLoop } from './common.js';
import { BatchMetrics } from './batch-metrics.js';
import { evalForwardAsync, inferBatch } from './infer-batch.js';
import { checkSoftmaxOption, softmaxRows } from './softmax-option.js';
import type { DataSource, EvaluateOptions, EvaluateResult, LossFunction, PredictOptions } from './types.js';

const EVAL_BATCH = 256;

/**
 * Mean loss (weighted by batch size) and accuracy of model over loader, each batch's forward in
 * eval mode (the modes are never left changed across an await), without a tape.
 */
export function runEvaluation(op: string, model: Module, loader: DataLoader, loss: LossFunction, accuracy: boolean): Promise<EvaluateResult> {
  return noGrad(async () => {
    const metrics = new BatchMetrics(op, accuracy);
    let samples = 0;
    let first = true;
    for (const { x, y } of loader) {
      if (!first) await yieldToEventLoop();
      first = false;
      const out = await evalForwardAsync(model, x);
      await metrics.add(checkLossValue(op, loss(out, y)), out, y);
      samples += y.length;
    }
    await metrics.settle();
    const result: EvaluateResult = { loss: metrics.loss, samples };
    if (accuracy) result.accuracy = metrics.accuracy;
    return result;
  });
}

/** The mean loss and the metrics of model over data, in eval mode without gradients. */
export async function evaluate(model: Module, data: DataSource, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const op = 'evaluate';
  checkModel(op, model);
  const o = checkOptions<EvaluateOptions>(op, options, ['batchSize', 'loss', 'metrics']);
  const loss = checkLoss(op, o.loss);
  const accuracy = checkMetrics(op, o.metrics);
  const loader = toLoader(op, 'data', data, o.batchSize, EVAL_BATCH, undefined, false);
  return runEvaluation(op, model, loader, loss, accuracy);
}

/**
 * The model's raw outputs for x [N, ...] (as Keras and PyTorch), or softmax probabilities over
 * the classes of an [N, C] output with { softmax: true }; computed batchSize rows at a time,
 * each batch in eval mode as one call (inferBatch), and stacked into one [N, ...] tensor.
 */
export async function predict(model: Module, x: Tensor, options: PredictOptions = {}): Promise<Tensor> {
  const op = 'predict';
  checkModel(op, model);
  checkTensor(op, 'x', x).checkLive(op);
  if (x.ndim < 1 || x.shape[0] === 0) throw new RangeError(`${op}: x must be a batch [N, ...] with N >= 1, got shape ${formatShape(x.shape)}`);
  const o = checkOptions<PredictOptions>(op, options, ['batchSize', 'softmax', 'raw' as keyof PredictOptions]);
  const batchSize = o.batchSize === undefined ? EVAL_BATCH : checkInt(op, 'batchSize', o.batchSize, 1);
  const applySoftmax = checkSoftmaxOption(op, model, o, o.softmax);
  const n = x.shape[0];
  const rowShape = x.shape.slice(1);
  const rowSize = x.size / n;
  let out: Float32Array | null = null;
  let outShape: number[] = [];
  let outRow = 0;
  for (let start = 0; start < n; start += batchSize) {
    if (start > 0) await yieldToEventLoop();
    const end = Math.min(start + batchSize, n);
    // A view of the rows, not a copy.
    const rows = start === 0 && end === n ? x : new Tensor(viewRows(x, start * rowSize, (end - start) * rowSize), [end - start, ...rowShape]);
    let y = await inferBatch(model, rows);
    if (y.ndim < 1 || y.shape[0] !== end - start) {
      throw new RangeError(`${op}: the model's output for a batch of ${end - start} must have ${end - start} rows, got shape ${formatShape(y.shape)}`);
    }
    if (applySoftmax) y = softmaxRows(op, y);
    if (out === null) {
      outShape = [n, ...y.shape.slice(1)];
      outRow = y.size / (end - start);
      if (end === n) return y; // one batch: its output is the answer
      out = new Float32Array(n * outRow);
    } else if (y.size !== (end - start) * outRow) {
      throw new RangeError(`${op}: the model's output rows changed shape between batches (${formatShape(outShape.slice(1))} then ${formatShape(y.shape.slice(1))})`);
    }
    out.set(y.data, start * outRow);
  }
  return new Tensor(out!, outShape);
}

/** Elements [offset, offset + length) of x's storage, shared (no copy). */
function viewRows(x: Tensor, offset: number, length: number) {
  return backendForDevice(x.device).view(x.storage, offset, length);
}
