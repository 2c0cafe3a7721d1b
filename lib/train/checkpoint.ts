// fit's checkpoints: one safetensors file holding the model's weights ('model.*'), the
// optimizer's buffers ('optim.<i>.<buffer>'), the early-stopping best weights ('best.*') and,
// as JSON in __metadata__.convkit_checkpoint, everything else (epoch, seed, history, lr and
// steps, scheduler, early-stopping state). lib/io writes the bytes and replaces the file
// atomically (temp file, fsync, rename), so a crash leaves the old checkpoint or the new one.
// This file is the only place that knows the checkpoint's layout.
import { readFile } from 'node:fs/promises';
import { readSafetensors, writeSafetensors } from '../io/index.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { SchedulerStateDict } from '../optim/scheduler.js';
import { Tensor } from '../tensor.js';
import type { History } from './types.js';

export const CHECKPOINT_FORMAT = 'convkit-fit-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number | null;
  wait: number;
}

/** Everything fit needs to continue a run where it stopped. */
export interface CheckpointState {
  /** Epochs completed. */
  epoch: number;
  seed: number;
  history: History;
  model: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
  scheduler: SchedulerStateDict | null;
  earlyStopping: EarlyStoppingState;
  /** The best epoch's weights, kept for restoreBestWeights. */
  bestWeights: Record<string, Float32Array> | null;
}

interface Meta {
  format: string;
  version: number;
  epoch: number;
  seed: number;
  history: History;
  optimizer: { lr: number; steps: (number | null)[] };
  scheduler: SchedulerStateDict | null;
  earlyStopping: EarlyStoppingState;
}

export async function saveCheckpoint(path: string, state: CheckpointState): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(state.model)) tensors[`model.${name}`] = t;
  state.optimizer.state.forEach((s, i) => {
    if (s) for (const [k, values] of Object.entries(s.buffers)) tensors[`optim.${i}.${k}`] = new Tensor(Float32Array.from(values), [values.length]);
  });
  if (state.bestWeights) for (const [name, data] of Object.entries(state.bestWeights)) tensors[`best.${name}`] = new Tensor(data, [data.length]);
  const meta: Meta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch: state.epoch,
    seed: state.seed,
    history: state.history,
    optimizer: { lr: state.optimizer.lr, steps: state.optimizer.state.map((s) => (s ? s.step : null)) },
    scheduler: state.scheduler,
    earlyStopping: state.earlyStopping,
  };
  await writeFileAtomic(path, writeSafetensors(tensors, { convkit_checkpoint: JSON.stringify(meta) }), 'fit: checkpoint');
}

function bad(path: string, why: string): Error {
  return new RangeError(`fit: checkpoint ${path} is not a convkit fit checkpoint (${why})`);
}

/** Reads a checkpoint written by saveCheckpoint. */
export async function loadCheckpoint(path: string): Promise<CheckpointState> {
  const contents = readSafetensors(await readFile(path), path);
  let meta: Meta;
  try {
    meta = JSON.parse(contents.metadata.convkit_checkpoint);
  } catch {
    throw bad(path, 'no readable convkit_checkpoint metadata');
  }
  if (meta === null || typeof meta !== 'object' || meta.format !== CHECKPOINT_FORMAT || meta.version !== CHECKPOINT_VERSION) {
    throw bad(path, `format ${String(meta?.format)} version ${String(meta?.version)}`);
  }
  const model: Record<string, Tensor> = {};
  const bestWeights: Record<string, Float32Array> = {};
  const optimBuffers = new Map<number, Record<string, number[]>>();
  for (const [key, t] of Object.entries(contents.tensors)) {
    if (key.startsWith('model.')) model[key.slice(6)] = t;
    else if (key.startsWith('best.')) bestWeights[key.slice(5)] = t.data;
    else if (key.startsWith('optim.')) {
      const [, index, name] = key.split('.');
      const i = Number(index);
      if (!optimBuffers.has(i)) optimBuffers.set(i, {});
      optimBuffers.get(i)![name] = Array.from(t.data);
    }
  }
  const optimizer: OptimizerStateDict = {
    lr: meta.optimizer.lr,
    state: meta.optimizer.steps.map((step, i) => (step === null ? null : { step, buffers: optimBuffers.get(i) ?? {} })),
  };
  return {
    epoch: meta.epoch,
    seed: meta.seed,
    history: meta.history,
    model,
    optimizer,
    scheduler: meta.scheduler,
    earlyStopping: meta.earlyStopping,
    bestWeights: Object.keys(bestWeights).length > 0 ? bestWeights : null,
  };
}
