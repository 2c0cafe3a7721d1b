// Conv2d and Conv1d layers. Conv1d runs the conv2d kernel on a [N, C, 1, L] view of its
// [N, C, L] input (reshape is free), so there is one convolution kernel to maintain.
import { checkBoolean, checkInt, checkOptions, checkTensorRank } from '../check.js';
import { immutableOptions, parseConvOptions, parsePair, type Conv2dOptions, type Pair, type Padding } from '../geometry.js';
import { conv2d } from '../ops/conv.js';
import { reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { Module, type ModuleConfig } from './module.js';
import { checkWeightInit, initWeightAndBias, type WeightInit } from './weights.js';
import { createTensors } from './deferred.js';

/** nn.Conv2d's options: conv2d()'s, plus whether there is a bias and how the weights start. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Whether the layer adds a learned bias; default true. */
  bias?: boolean;
  /** The weight's initializer; default PyTorch's (kaiming uniform, a = sqrt(5)). */
  init?: WeightInit;
}

/** nn.Conv1d's options, as PyTorch's, plus how the weights start. */
export interface Conv1dLayerOptions {
  stride?: number;
  /** A number (both ends), [left, right], or 'same' / 'valid'. */
  padding?: number | readonly [number, number] | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  bias?: boolean;
  init?: WeightInit;
}

const CONV_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'init'] as const;

/** Checks channels and groups, and creates and initialises weight and bias. */
function createParameters(op: string, inChannels: unknown, outChannels: unknown, kernel: readonly number[],
  opts: { groups?: unknown; bias?: unknown; init?: unknown }): { weight: Tensor; bias: Tensor | null } {
  const inC = checkInt(op, 'inChannels', inChannels, 1);
  const outC = checkInt(op, 'outChannels', outChannels, 1);
  const groups = checkInt(op, 'groups', opts.groups ?? 1, 1);
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new RangeError(`${op}: inChannels ${inC} and outChannels ${outC} must both be divisible by groups ${groups}`);
  }
  const hasBias = checkBoolean(op, 'bias', opts.bias, true);
  const init = checkWeightInit(op, opts.init);
  const [weight, bias] = createTensors(op, [[outC, inC / groups, ...kernel], hasBias ? [outC] : null],
    ([w, b]) => initWeightAndBias(w as Tensor, b, init));
  return { weight: weight as Tensor, bias };
}

/** A copy of the options without init, for toConfig (the weights are saved, not how they were drawn). */
function architecture<T extends { init?: unknown }>(options: T): Omit<T, 'init'> {
  const { init: _init, ...rest } = options;
  return rest;
}

/** 2-D convolution over [N, C, H, W]: weight [outC, inC/groups, kH, kW], bias [outC]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly options: Omit<Conv2dLayerOptions, 'init'>;
  /** @internal The options conv2d gets (read by compile). */
  readonly convOptions: Conv2dOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    const op = 'Conv2d';
    const opts = checkOptions<Conv2dLayerOptions>(op, options, CONV_OPTIONS);
    const params = createParameters(op, inChannels, outChannels, parsePair(op, 'kernelSize', kernelSize, 1), opts);
    this.weight = this.registerParameter('weight', params.weight);
    this.bias = this.registerParameter('bias', params.bias);
    this.options = architecture(opts);
    const { bias: _bias, ...convOptions } = this.options;
    parseConvOptions(op, convOptions); // bad options fail here, not at the first forward
    this.convOptions = immutableOptions(convOptions);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.convOptions);
  }

  toConfig(): ModuleConfig {
    return { type: 'Conv2d', args: [this.inChannels, this.outChannels, this.kernelSize, this.options] };
  }
}

/** 1-D convolution over signals [N, C, L]: weight [outC, inC/groups, k], bias [outC]. */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly options: Omit<Conv1dLayerOptions, 'init'>;
  /** @internal The options conv2d gets (read by compile). */
  readonly convOptions: Conv2dOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv1dLayerOptions = {}) {
    super();
    const op = 'Conv1d';
    const opts = checkOptions<Conv1dLayerOptions>(op, options, CONV_OPTIONS);
    const params = createParameters(op, inChannels, outChannels, [checkInt(op, 'kernelSize', kernelSize, 1)], opts);
    this.weight = this.registerParameter('weight', params.weight);
    this.bias = this.registerParameter('bias', params.bias);
    this.options = architecture(opts);
    this.convOptions = immutableOptions({
      stride: [1, checkInt(op, 'stride', opts.stride ?? 1, 1)],
      dilation: [1, checkInt(op, 'dilation', opts.dilation ?? 1, 1)],
      padding: planePadding(op, opts.padding),
      groups: opts.groups,
    });
    parseConvOptions(op, this.convOptions);
  }

  forward(x: Tensor): Tensor {
    const input = checkTensorRank('Conv1d', 'input', x, 3, 'NCL');
    const [n, c, length] = input.shape;
    const [o, ci, k] = this.weight.shape;
    const y = conv2d(reshape(input, [n, c, 1, length]), reshape(this.weight, [o, ci, 1, k]), this.bias, this.convOptions);
    return reshape(y, [n, o, y.shape[3]]);
  }

  toConfig(): ModuleConfig {
    return { type: 'Conv1d', args: [this.inChannels, this.outChannels, this.kernelSize, this.options] };
  }
}

/** @internal Conv1d padding as conv2d padding of a height-1 plane: [top, left, bottom, right]. */
export function planePadding(op: string, padding: Conv1dLayerOptions['padding']): Padding {
  if (padding === undefined || padding === 'same' || padding === 'valid') return padding ?? 0;
  if (Array.isArray(padding) && padding.length === 2) {
    return [0, checkInt(op, 'padding[0]', padding[0], 0), 0, checkInt(op, 'padding[1]', padding[1], 0)];
  }
  if (typeof padding === 'number') return [0, checkInt(op, 'padding', padding, 0)];
  throw new TypeError(`${op}: padding must be a number, [left, right], 'same' or 'valid'`);
}
