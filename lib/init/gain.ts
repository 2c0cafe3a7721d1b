// The recommended gain for a nonlinearity, as PyTorch's torch.nn.init.calculate_gain: the
// factor that keeps activations' variance steady through a layer followed by it.
import { describe } from '../shape.js';
import { quote } from './args.js';

/** The nonlinearities calculateGain() knows, as torch.nn.init.calculate_gain. */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

export const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'];

/** Throws unless value names a nonlinearity; `op` and `name` start the message. */
export function checkNonlinearity(op: string, name: string, value: unknown): Nonlinearity {
  if (typeof value !== 'string') throw new TypeError(`${op}: ${name} must be a string, got ${describe(value)}`);
  if (!(NONLINEARITIES as readonly string[]).includes(value)) {
    throw new RangeError(`${op}: ${name} must be one of ${NONLINEARITIES.map(quote).join(', ')}, got ${quote(value)}`);
  }
  return value as Nonlinearity;
}

/** param is leakyRelu's negative slope (default 0.01); the other nonlinearities ignore it. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const op = 'init.calculateGain';
  switch (checkNonlinearity(op, 'nonlinearity', nonlinearity)) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number') throw new TypeError(`${op}: param (the negative slope) must be a number, got ${describe(slope)}`);
      if (!Number.isFinite(slope)) throw new RangeError(`${op}: param (the negative slope) must be finite, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4; // PyTorch's choice, for self-normalizing networks
  }
}
