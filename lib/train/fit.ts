// fit: the training loop. Per epoch: reseed from (seed, epoch), train over the batches
// (one call of the compiled step where the model allows it, lib/compile/native-trainer.ts; else
// forward, loss, zeroGrad, backward, step; yielding to the event loop between batches),
// validate, record the epoch's logs, early-stopping bookkeeping, scheduler step, progress,
// onEpochEnd, checkpoint. Loss and accuracy are summed by BatchMetrics, which on a GPU reads
// them back without stopping the loop.
import { existsSync } from 'node:fs';
import { backendForDevice } from '../backend/registry.js';
import { checkBoolean, checkFiniteNumber, checkInt, checkOptions } from '../check.js';
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { Optimizer } from '../optim/optimizer.js';
import { LRScheduler } from '../optim/scheduler.js';
import { defaultGenerator } from '../random.js';
import { describe } from '../shape.js';
import { loadCheckpoint, saveCheckpoint, type EarlyStoppingState } from './checkpoint.js';
import {
  checkLoss, checkLossValue, checkMetrics, checkModel, restoreModes, saveModes, toLoader, yieldToEventLoop,
  onModelDevice,
} from './common.js';
import { BatchMetrics } from './batch-metrics.js';
import { runEvaluation } from './evaluate.js';
import { createProgress } from './progress.js';
import { NativeTrainer } from '../compile/native-trainer.js';
import type { Tensor } from '../tensor.js';
import type {
  BatchLogs, Callbacks, CheckpointOptions, DataSource, EarlyStoppingOptions, EpochLogs, FitOptions, History, MonitorName, TrainControl,
} from './types.js';

const OPTION_NAMES = [
  'epochs', 'optimizer', 'loss', 'batchSize', 'shuffle', 'validation', 'metrics', 'callbacks', 'progress',
  'scheduler', 'earlyStopping', 'checkpoint', 'seed', 'compiled',
] as const;
const MONITORS: readonly MonitorName[] = ['loss', 'accuracy', 'valLoss', 'valAccuracy'];
/** Epochs fit in the low 20 bits of an epoch's seed. */
const MAX_EPOCHS = 2 ** 20;

interface Monitor {
  name: MonitorName;
  /** +1 when larger is better (accuracies), -1 when smaller is (losses). */
  sign: 1 | -1;
  patience: number;
  minDelta: number;
  restoreBestWeights: boolean;
  /** Whether it stops training (earlyStopping was given) or only picks history.bestEpoch. */
  stops: boolean;
}

function checkCallbacks(op: string, callbacks: unknown): Callbacks[] {
  if (callbacks === undefined) return [];
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  list.forEach((c, i) => {
    const name = Array.isArray(callbacks) ? `callbacks[${i}]` : 'callbacks';
    if (c === null || typeof c !== 'object') throw new TypeError(`${op}: ${name} must be an object like { onEpochEnd, onBatchEnd, onTrainEnd }, got ${describe(c)}`);
    for (const [key, fn] of Object.entries(c)) {
      if (!['onEpochEnd', 'onBatchEnd', 'onTrainEnd'].includes(key)) throw new TypeError(`${op}: unknown callback ${name}.${key} (expected onEpochEnd, onBatchEnd, onTrainEnd)`);
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`${op}: ${name}.${key} must be a function, got ${describe(fn)}`);
    }
  });
  return list as Callbacks[];
}

function checkMonitor(op: string, es: unknown, hasValidation: boolean, accuracy: boolean): Monitor {
  const fallback: MonitorName = hasValidation ? 'valLoss' : 'loss';
  if (es === undefined) return { name: fallback, sign: -1, patience: 0, minDelta: 0, restoreBestWeights: false, stops: false };
  const o = checkOptions<EarlyStoppingOptions>(`${op}: earlyStopping`, es, ['monitor', 'patience', 'minDelta', 'restoreBestWeights']);
  const name = o.monitor ?? fallback;
  if (typeof name !== 'string') throw new TypeError(`${op}: earlyStopping.monitor must be a string, got ${describe(name)}`);
  if (!MONITORS.includes(name)) throw new RangeError(`${op}: earlyStopping.monitor '${name}' is unknown (expected one of ${MONITORS.join(', ')})`);
  if (name.startsWith('val') && !hasValidation) throw new RangeError(`${op}: earlyStopping.monitor '${name}' needs validation data; pass options.validation`);
  if (name.toLowerCase().endsWith('accuracy') && !accuracy) throw new RangeError(`${op}: earlyStopping.monitor '${name}' needs metrics: ['accuracy']`);
  const minDelta = o.minDelta === undefined ? 0 : checkFiniteNumber(`${op}: earlyStopping`, 'minDelta', o.minDelta);
  if (minDelta < 0) throw new RangeError(`${op}: earlyStopping.minDelta must be >= 0, got ${minDelta}`);
  return {
    name,
    sign: name.toLowerCase().endsWith('accuracy') ? 1 : -1,
    patience: o.patience === undefined ? 0 : checkInt(`${op}: earlyStopping`, 'patience', o.patience, 0),
    minDelta,
    restoreBestWeights: checkBoolean(`${op}: earlyStopping`, 'restoreBestWeights', o.restoreBestWeights, false),
    stops: true,
  };
}

function checkCheckpoint(op: string, cp: unknown): Required<CheckpointOptions> | null {
  if (cp === undefined) return null;
  const o = checkOptions<CheckpointOptions>(`${op}: checkpoint`, cp, ['path', 'every', 'resume']);
  if (typeof o.path !== 'string' || o.path === '') throw new TypeError(`${op}: checkpoint.path must be a non-empty string, got ${describe(o.path)}`);
  return {
    path: o.path,
    every: o.every === undefined ? 1 : checkInt(`${op}: checkpoint`, 'every', o.every, 1),
    resume: checkBoolean(`${op}: checkpoint`, 'resume', o.resume, false),
  };
}

function checkOptimizer(op: string, optimizer: unknown, model: Module): Optimizer {
  if (optimizer === undefined) throw new TypeError(`${op}: optimizer is required (e.g. new optim.Adam(model.parameters()))`);
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${op}: optimizer must be an Optimizer (optim.SGD, optim.Adam, ...), got ${describe(optimizer)}`);
  const own = new Set(model.parameters());
  optimizer.params.forEach((p, i) => {
    if (!own.has(p)) throw new RangeError(`${op}: optimizer.params[${i}] is not a parameter of the model (was the optimizer made for another model?)`);
  });
  return optimizer;
}

/** A safe integer from (seed, epoch, stream): distinct per epoch and per generator. */
function epochSeed(seed: number, epoch: number, stream: 0 | 1): number {
  return stream * 2 ** 52 + seed * 2 ** 20 + epoch;
}

function copyWeights(model: Module, into: Record<string, Float32Array> | null): Record<string, Float32Array> {
  const out = into ?? {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    const buf = out[name];
    if (buf && buf.length === t.size) buf.set(t.device === 'cpu' ? t.data : t.toArray());
    else out[name] = t.toArray();
  }
  return out;
}

async function runCallbacks(list: Callbacks[], control: TrainControl, call: (c: Callbacks) => unknown): Promise<void> {
  for (const c of list) {
    const result = await call(c);
    if (result === 'stop') control.stop = true;
  }
}

/**
 * Trains model on trainSet for options.epochs epochs and returns the history. The model trains
 * in train mode and is validated in eval mode under noGrad; every module's mode is put back
 * as fit found it.
 */
export async function fit(model: Module, trainSet: DataSource, options: FitOptions): Promise<History> {
  const op = 'fit';
  checkModel(op, model);
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new TypeError(`${op}: options must be an object like { epochs, optimizer, batchSize }, got ${describe(options)}`);
  }
  const o = checkOptions<FitOptions>(op, options, OPTION_NAMES);
  if (o.epochs === undefined) throw new TypeError(`${op}: epochs is required (a positive integer)`);
  const epochs = checkInt(op, 'epochs', o.epochs, 1);
  if (epochs > MAX_EPOCHS) throw new RangeError(`${op}: epochs must be at most ${MAX_EPOCHS}, got ${epochs}`);
  const optimizer = checkOptimizer(op, o.optimizer, model);
  const loss = checkLoss(op, o.loss);
  const accuracy = checkMetrics(op, o.metrics);
  const loader: DataLoader = toLoader(op, 'trainSet', trainSet, o.batchSize, 32, o.shuffle, true);
  const validation = o.validation === undefined ? null : toLoader(op, 'validation', o.validation, undefined, Math.max(loader.batchSize, 256), undefined, false);
  const callbacks = checkCallbacks(op, o.callbacks);
  const scheduler = o.scheduler ?? null;
  if (scheduler !== null) {
    if (!(scheduler instanceof LRScheduler)) throw new TypeError(`${op}: scheduler must be an LRScheduler (optim.StepLR, optim.CosineAnnealingLR), got ${describe(scheduler)}`);
    if (scheduler.optimizer !== optimizer) throw new RangeError(`${op}: scheduler must schedule options.optimizer, but it was made for another optimizer`);
  }
  const monitor = checkMonitor(op, o.earlyStopping, validation !== null, accuracy);
  const checkpoint = checkCheckpoint(op, o.checkpoint);
  let seed: number;
  if (o.seed === undefined) seed = defaultGenerator().nextUint32();
  else {
    seed = checkInt(op, 'seed', o.seed, 0);
    if (seed >= 2 ** 32) throw new RangeError(`${op}: seed must be below 2^32, got ${seed}`);
  }
  const compiled = checkBoolean(op, 'compiled', o.compiled, true);
  const progress = createProgress(op, o.progress, epochs);

  const history: History = { epochs: [], stoppedEarly: false, bestEpoch: null };
  const es: EarlyStoppingState = { best: null, bestEpoch: null, wait: 0 };
  let bestWeights: Record<string, Float32Array> | null = null;
  let startEpoch = 1;
  const control: TrainControl = { stop: false, history };

  if (checkpoint?.resume && existsSync(checkpoint.path)) {
    const state = await loadCheckpoint(checkpoint.path);
    model.loadStateDict(state.model);
    optimizer.loadStateDict(state.optimizer);
    if (scheduler && state.scheduler) scheduler.loadStateDict(state.scheduler);
    seed = state.seed;
    history.epochs.push(...state.history.epochs);
    history.stoppedEarly = state.history.stoppedEarly;
    history.bestEpoch = state.history.bestEpoch;
    Object.assign(es, state.earlyStopping);
    bestWeights = state.bestWeights;
    startEpoch = state.epoch + 1;
    if (history.stoppedEarly) control.stop = true;
  }

  const modes = saveModes(model);
  const saveState = (epoch: number) => checkpoint && saveCheckpoint(checkpoint.path, {
    epoch, seed, history, model: model.stateDict(), optimizer: optimizer.stateDict(),
    scheduler: scheduler ? scheduler.stateDict() : null, earlyStopping: { ...es }, bestWeights,
  });
  const shuffleGenerator = loader.generator !== defaultGenerator() ? loader.generator : null;
  const batches = loader.length;
  const batchLogs: BatchLogs = { epoch: 0, batches, size: 0, loss: 0 };
  let trainer: NativeTrainer | null | undefined;
  try {
    for (let epoch = startEpoch; epoch <= epochs && !control.stop; epoch++) {
      defaultGenerator().seed(epochSeed(seed, epoch, 0));
      shuffleGenerator?.seed(epochSeed(seed, epoch, 1));
      const lr = optimizer.lr;
      model.train();
      progress.epochStart(epoch, batches);
      const metrics = new BatchMetrics(op, accuracy);
      let samples = 0;
      let batch = 0;
      const start = performance.now();
      for (const { x, y } of loader) {
        const input = onModelDevice(model, x);
        // The compiled step is made at the first batch (it needs the sample shape), once per fit.
        if (trainer === undefined) {
          const made = compiled ? NativeTrainer.create(model, optimizer, loss, input.shape.slice(1)) : null;
          trainer = made instanceof NativeTrainer ? made : null;
        }
        const done = trainer?.step(input, y) ?? null;
        let out: Tensor, l: Tensor;
        if (done) ({ output: out, loss: l } = done);
        else {
          out = model.forward(input);
          l = checkLossValue(op, loss(out, y));
          optimizer.zeroGrad();
          l.backward();
          optimizer.step();
        }
        batch++;
        samples += y.length;
        await metrics.add(l, out, y);
        // Callbacks get this batch's exact running figures; so does the first progress line.
        if (callbacks.length > 0 || !metrics.any) await metrics.settle();
        const elapsed = (performance.now() - start) / 1000;
        progress.batch(batch, metrics.loss, metrics.accuracy, samples / elapsed, elapsed);
        if (callbacks.length > 0) {
          batchLogs.epoch = epoch;
          batchLogs.size = y.length;
          batchLogs.loss = metrics.loss;
          if (accuracy) batchLogs.accuracy = metrics.accuracy;
          await runCallbacks(callbacks, control, (c) => c.onBatchEnd?.(batch, batchLogs, control));
          if (control.stop) break;
        }
        await yieldToEventLoop();
      }
      await metrics.settle();
      const seconds = (performance.now() - start) / 1000;
      const logs: EpochLogs = { epoch, loss: metrics.loss, seconds, imagesPerSecond: samples / seconds, lr };
      if (accuracy) logs.accuracy = metrics.accuracy;
      if (validation) {
        const v = await runEvaluation(op, model, validation, loss, accuracy);
        logs.valLoss = v.loss;
        if (accuracy) logs.valAccuracy = v.accuracy;
      }
      history.epochs.push(logs);

      // Early stopping and history.bestEpoch.
      const value = logs[monitor.name] as number;
      if (es.best === null || monitor.sign * (value - es.best) > monitor.minDelta) {
        es.best = value;
        es.bestEpoch = epoch;
        es.wait = 0;
        if (monitor.restoreBestWeights) bestWeights = copyWeights(model, bestWeights);
      } else {
        es.wait++;
        if (monitor.stops && es.wait > monitor.patience) control.stop = true;
      }
      history.bestEpoch = es.bestEpoch;

      scheduler?.step();
      progress.epochEnd(logs);
      await runCallbacks(callbacks, control, (c) => c.onEpochEnd?.(epoch, logs, control));
      if (control.stop && epoch < epochs) history.stoppedEarly = true;
      if (checkpoint && (epoch % checkpoint.every === 0 || epoch === epochs || control.stop)) await saveState(epoch);
    }
    if (monitor.restoreBestWeights && bestWeights && es.bestEpoch !== history.epochs.at(-1)?.epoch) {
      const own = model.stateDict();
      for (const [name, data] of Object.entries(bestWeights)) {
        const t = own[name];
        if (t) backendForDevice(t.device).copyFromHost(data, t.storage);
      }
    }
  } finally {
    progress.close();
    restoreModes(modes);
  }
  for (const c of callbacks) await c.onTrainEnd?.(history);
  return history;
}
