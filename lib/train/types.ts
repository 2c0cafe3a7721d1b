// The public types of the training loop: fit/evaluate/predict options, logs and history.
import type { Tensor } from '../tensor.js';
import type { Dataset } from '../data/dataset.js';
import type { DataLoader } from '../data/loader.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/scheduler.js';

/** A dataset of (x, integer label) samples, or a DataLoader over one (it then sets batch size and shuffling). */
export type DataSource = Dataset | DataLoader;

/**
 * A built-in loss by name, over an [N, C] output and integer labels: 'crossEntropy' (the model
 * outputs logits) or 'nllLoss' (the model outputs log-probabilities, e.g. ends in logSoftmax).
 */
export type LossName = 'crossEntropy' | 'nllLoss';

/** A loss of the model's output and the batch labels; must return a 1-element tensor (the batch mean). */
export type LossFunction = (output: Tensor, labels: Int32Array) => Tensor;

/** 'accuracy': the fraction of samples whose argmax over the output [N, C] is the label. */
export type MetricName = 'accuracy';

/** What early stopping watches; 'val...' needs validation data, '...accuracy' needs metrics: ['accuracy']. */
export type MonitorName = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

/** One epoch's results, as history.epochs holds them. Epochs count from 1. */
export interface EpochLogs {
  epoch: number;
  /** Mean training loss over the epoch's samples. */
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch's training batches (not validation). */
  seconds: number;
  imagesPerSecond: number;
  /** The learning rate the epoch trained with (before the scheduler's step). */
  lr: number;
}

/** Passed to onBatchEnd (one object, updated in place each batch: copy it to keep it); loss and accuracy are running means over the epoch so far. */
export interface BatchLogs {
  epoch: number;
  /** Batches in this epoch. */
  batches: number;
  /** Samples in this batch. */
  size: number;
  loss: number;
  accuracy?: number;
}

/** What fit() returns: every epoch's logs, whether it stopped early, and the best epoch. */
export interface History {
  epochs: EpochLogs[];
  /** True when early stopping or a callback ended training before `epochs`. */
  stoppedEarly: boolean;
  /** The epoch with the best monitored value (earlyStopping.monitor, else valLoss with validation data, else loss); null before any epoch. */
  bestEpoch: number | null;
}

/** Handed to every callback: set stop = true to end training after the current batch or epoch. */
export interface TrainControl {
  stop: boolean;
  readonly history: History;
}

/** A callback may also end training by returning (or resolving to) 'stop'. */
export type CallbackResult = void | 'stop' | Promise<void | 'stop'>;

/** Hooks fit() calls around epochs and batches; any may stop training by returning 'stop'. */
export interface Callbacks {
  /** After each training batch; batch counts from 1 within the epoch. */
  onBatchEnd?(batch: number, logs: BatchLogs, control: TrainControl): CallbackResult;
  /** After each epoch, its validation, the scheduler step and early-stopping bookkeeping. */
  onEpochEnd?(epoch: number, logs: EpochLogs, control: TrainControl): CallbackResult;
  /** Once, after the last epoch (also after a stop), with the final history. */
  onTrainEnd?(history: History): void | Promise<void>;
}

/** Stop fit() when a monitored value stops improving, as Keras's EarlyStopping. */
export interface EarlyStoppingOptions {
  /** Default 'valLoss' with validation data, else 'loss'. */
  monitor?: MonitorName;
  /** Epochs without improvement to wait before stopping (default 0: stop at the first). */
  patience?: number;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** At the end, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/** Save the model and optimizer during fit(), and resume from the file when it exists. */
export interface CheckpointOptions {
  /** The checkpoint file (safetensors: weights, optimizer state, and the run's state as metadata). */
  path: string;
  /** Save after every `every`-th epoch (default 1), and after the last one. */
  every?: number;
  /** Continue from path when it exists (default false: start afresh and overwrite it). */
  resume?: boolean;
}

/** Where progress goes: process.stdout by default. A bar needs isTTY true. */
export interface ProgressWriter {
  /** Writes one chunk of progress text. */
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** How fit() reports progress: where it writes, whether it draws a bar, and how often. */
export interface ProgressOptions {
  /** Default process.stdout. */
  output?: ProgressWriter;
  /** Draw a bar (default: output.isTTY); false prints plain lines. */
  bar?: boolean;
  /** Plain lines: also print a line every `every` batches (default 0: one line per epoch). */
  every?: number;
}

/**
 * fit()'s options: epochs, batching, optimizer, loss, validation, metrics, callbacks, progress,
 * early stopping and checkpoints.
 */
export interface FitOptions {
  epochs: number;
  optimizer: Optimizer;
  /** Default 'crossEntropy'. */
  loss?: LossName | LossFunction;
  /** Samples per batch for a Dataset (default 32); not allowed with a DataLoader. */
  batchSize?: number;
  /** Reshuffle a Dataset every epoch (default true); not allowed with a DataLoader. */
  shuffle?: boolean;
  /** Evaluated after every epoch (valLoss, valAccuracy); a Dataset is read in batches of max(batchSize, 256). */
  validation?: DataSource;
  metrics?: MetricName[];
  callbacks?: Callbacks | Callbacks[];
  /** Default true: a bar on a TTY, else one plain line per epoch. */
  progress?: boolean | ProgressOptions;
  /** Stepped once after every epoch. */
  scheduler?: LRScheduler;
  earlyStopping?: EarlyStoppingOptions;
  checkpoint?: CheckpointOptions;
  /**
   * The run's seed: each epoch reseeds the global generator (shuffles, dropout) and the
   * loader's generator from (seed, epoch), so a resumed run repeats an uninterrupted one.
   * Default: drawn from the global generator, so manualSeed() decides it.
   */
  seed?: number;
  /**
   * Default true: on the native cpu backend, train each batch as one native call (forward,
   * loss, backward and an SGD update, fused) when the model is a Sequential of layers a
   * compiled model supports, the loss is crossEntropy and the optimizer updates exactly the
   * model's parameters; other models train through the autograd tape, as with false.
   * Gradients are then overwritten in place each step instead of being new tensors.
   */
  compiled?: boolean;
}

/** evaluate()'s options: the loss, the metrics and the batch size. */
export interface EvaluateOptions {
  /** Samples per batch for a Dataset (default 256); not allowed with a DataLoader. */
  batchSize?: number;
  /** Default 'crossEntropy'. */
  loss?: LossName | LossFunction;
  metrics?: MetricName[];
}

/** What evaluate() returns: the mean loss, the metrics asked for, and how many samples it saw. */
export interface EvaluateResult {
  loss: number;
  accuracy?: number;
  /** Samples evaluated. */
  samples: number;
}

/** predict()'s options: the batch size, and raw outputs instead of softmax probabilities. */
export interface PredictOptions {
  /** Rows per forward pass (default 256). */
  batchSize?: number;
  /** Softmax over the classes of an [N, C] output (default false: the model's raw outputs, as Keras and PyTorch). */
  softmax?: boolean;
}
