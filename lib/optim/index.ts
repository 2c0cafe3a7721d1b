// Optimizers and learning-rate schedules, as torch.optim.
export { Optimizer, type OptimizerStateDict, type ParamState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export {
  LRScheduler, StepLR, CosineAnnealingLR,
  type StepLROptions, type CosineAnnealingLROptions, type SchedulerStateDict,
} from './scheduler.js';
