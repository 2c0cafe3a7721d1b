// Initializers whose scale comes from the weight's fans, so activations (xavier: also
// gradients) keep their variance from layer to layer.
import { type GeneratorOption, checkInitTensor, initOptions, nonNegativeArg, numberArg, quote } from './args.js';
import { fans } from './fans.js';
import { type Nonlinearity, calculateGain, checkNonlinearity } from './gain.js';
import { fillNormal, fillUniform } from './fill.js';
import type { Tensor } from '../tensor.js';

export interface XavierOptions extends GeneratorOption {
  /** Scales the std; calculateGain(nonlinearity) gives the recommended value. Default 1. */
  gain?: number;
}

/**
 * Which fan a variance-scaled initializer divides by: fanIn keeps the forward pass's variance,
 * fanOut the backward pass's.
 */
export type FanMode = 'fanIn' | 'fanOut';

export interface KaimingOptions extends GeneratorOption {
  /** leakyRelu's negative slope (default 0: relu's gain). */
  a?: number;
  /** fanIn keeps the forward pass's variance, fanOut the backward pass's. Default fanIn. */
  mode?: FanMode;
  /** Default leakyRelu, which with a = 0 is relu. */
  nonlinearity?: Nonlinearity;
}

/** Glorot & Bengio (2010): U(-bound, bound), bound = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, opts: XavierOptions = {}): Tensor {
  const [gain, g, f] = xavierArgs('init.xavierUniform', t, opts);
  const bound = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return fillUniform(t, -bound, bound, g);
}

/** N(0, std^2), std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, opts: XavierOptions = {}): Tensor {
  const [gain, g, f] = xavierArgs('init.xavierNormal', t, opts);
  return fillNormal(t, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)), g);
}

/** He et al. (2015): U(-bound, bound), bound = sqrt(3) * gain / sqrt(fan). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const [std, g] = kaimingArgs('init.kaimingUniform', t, opts);
  return fillUniform(t, -Math.sqrt(3) * std, Math.sqrt(3) * std, g);
}

/** N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const [std, g] = kaimingArgs('init.kaimingNormal', t, opts);
  return fillNormal(t, 0, std, g);
}

/** LeCun: N(0, 1 / fanIn), for selu networks. */
export function lecunNormal(t: Tensor, opts: GeneratorOption = {}): Tensor {
  const op = 'init.lecunNormal';
  checkInitTensor(op, t);
  const [, g] = initOptions<GeneratorOption>(op, opts, ['generator']);
  return fillNormal(t, 0, 1 / Math.sqrt(fans(t.shape).fanIn), g);
}

function xavierArgs(op: string, t: Tensor, opts: XavierOptions) {
  checkInitTensor(op, t);
  const [o, g] = initOptions<XavierOptions>(op, opts, ['gain', 'generator']);
  const gain = nonNegativeArg(op, 'gain', o.gain, 1);
  return [gain, g, fans(t.shape)] as const;
}

/** The std for kaiming draws, and the generator. */
function kaimingArgs(op: string, t: Tensor, opts: KaimingOptions) {
  checkInitTensor(op, t);
  const [o, g] = initOptions<KaimingOptions>(op, opts, ['a', 'mode', 'nonlinearity', 'generator']);
  const a = numberArg(op, 'a', o.a, 0);
  const mode = o.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new (typeof mode === 'string' ? RangeError : TypeError)(`${op}: mode must be 'fanIn' or 'fanOut', got ${quote(mode)}`);
  }
  const nonlinearity = checkNonlinearity(op, 'nonlinearity', o.nonlinearity ?? 'leakyRelu');
  const fan = fans(t.shape)[mode];
  return [calculateGain(nonlinearity, a) / Math.sqrt(fan), g] as const;
}
