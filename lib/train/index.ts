// The training loop: fit, evaluate and predict.
export { fit } from './fit.js';
export { evaluate, predict } from './evaluate.js';
export type {
  BatchLogs, CallbackResult, Callbacks, CheckpointOptions, DataSource, EarlyStoppingOptions, EpochLogs, EvaluateOptions,
  EvaluateResult, FitOptions, History, LossFunction, LossName, MetricName, MonitorName, PredictOptions, ProgressOptions,
  ProgressWriter, TrainControl,
} from './types.js';
