// Learning-rate schedules, stepped once per epoch. Each sets optimizer.lr from a closed
// form of the epoch count, as PyTorch's _get_closed_form_lr, so a resumed run (loaded
// lastEpoch) lands on the same lr without replaying the steps.
import { checkOptions, checkInt } from '../check.js';
import { describe } from '../shape.js';
import { Optimizer } from './optimizer.js';
import { numberOption } from './options.js';

/** A schedule's saved position. */
export interface SchedulerStateDict {
  baseLr: number;
  lastEpoch: number;
}

/**
 * The base of the learning-rate schedules, as torch.optim.lr_scheduler: step() once per epoch sets
 * the optimizer's learning rate.
 */
export abstract class LRScheduler {
  /** The optimizer's lr when the scheduler was made: the schedule's starting point. */
  baseLr: number;
  /** Epochs stepped so far (0 before the first step()). */
  lastEpoch = 0;

  protected constructor(protected readonly name: string, readonly optimizer: Optimizer) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: optimizer must be an Optimizer, got ${describe(optimizer)}`);
    this.baseLr = optimizer.lr;
  }

  /** Call once per epoch, after the epoch's optimizer steps. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The lr the schedule last set (the base lr before the first step). */
  getLastLr(): number {
    return this.lrAt(this.lastEpoch);
  }

  /** The schedule's position, for checkpoints; loadStateDict() restores it. */
  stateDict(): SchedulerStateDict {
    return { baseLr: this.baseLr, lastEpoch: this.lastEpoch };
  }

  /** Restores the schedule's position and sets the optimizer's lr to match it. */
  loadStateDict(dict: SchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object') throw new TypeError(`${op}: dict must be { baseLr, lastEpoch }, got ${describe(dict)}`);
    if (dict.baseLr === undefined) throw new TypeError(`${op}: baseLr must be a number, got undefined`);
    const baseLr = numberOption(op, 'baseLr', dict.baseLr, 0, { min: 0 });
    const lastEpoch = checkInt(op, 'lastEpoch', dict.lastEpoch, 0);
    this.baseLr = baseLr;
    this.lastEpoch = lastEpoch;
    this.optimizer.lr = this.lrAt(lastEpoch);
  }

  /** The closed-form lr after `epoch` steps. */
  protected abstract lrAt(epoch: number): number;
}

/** StepLR's options: multiply the rate by gamma (default 0.1) every stepSize epochs. */
export interface StepLROptions {
  stepSize: number;
  gamma?: number;
}

/** lr = baseLr * gamma^floor(epoch / stepSize): decays by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super('StepLR', optimizer);
    const o = checkOptions<StepLROptions>('StepLR', options, ['stepSize', 'gamma']);
    if (o.stepSize === undefined) throw new TypeError('StepLR: stepSize is required (epochs between decays)');
    this.stepSize = checkInt('StepLR', 'stepSize', o.stepSize, 1);
    this.gamma = numberOption('StepLR', 'gamma', o.gamma, 0.1, { min: 0 });
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * CosineAnnealingLR's options: the half-period tMax in epochs, and the lowest rate etaMin (default
 * 0).
 */
export interface CosineAnnealingLROptions {
  tMax: number;
  etaMin?: number;
}

/** lr = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2 (Loshchilov & Hutter, SGDR). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    const o = checkOptions<CosineAnnealingLROptions>('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    if (o.tMax === undefined) throw new TypeError('CosineAnnealingLR: tMax is required (epochs to reach etaMin)');
    this.tMax = checkInt('CosineAnnealingLR', 'tMax', o.tMax, 1);
    this.etaMin = numberOption('CosineAnnealingLR', 'etaMin', o.etaMin, 0, { min: 0 });
  }

  protected lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}
