// Initializers by name, with their defaults, for layer options like { init: 'kaimingNormal' }.
import { quote } from './args.js';
import { normal, ones, uniform, zeros } from './fill.js';
import { kaimingNormal, kaimingUniform, lecunNormal, xavierNormal, xavierUniform } from './variance-scaling.js';
import type { Tensor } from '../tensor.js';

/** An initializer by name, for a layer's `init` option. */
export type InitName = 'zeros' | 'ones' | 'xavierUniform' | 'xavierNormal' | 'kaimingUniform' | 'kaimingNormal' | 'lecunNormal' | 'uniform' | 'normal';

const INITIALIZERS: Readonly<Record<InitName, (t: Tensor) => Tensor>> = {
  zeros: (t) => zeros(t),
  ones: (t) => ones(t),
  xavierUniform: (t) => xavierUniform(t),
  xavierNormal: (t) => xavierNormal(t),
  kaimingUniform: (t) => kaimingUniform(t),
  kaimingNormal: (t) => kaimingNormal(t),
  lecunNormal: (t) => lecunNormal(t),
  uniform: (t) => uniform(t),
  normal: (t) => normal(t),
};

/** Every initializer name that a layer's `init` option accepts. */
export const INIT_NAMES = Object.freeze(Object.keys(INITIALIZERS) as InitName[]);

/** The in-place initializer called name, drawing from the default generator. */
export function initializerByName(name: InitName): (t: Tensor) => Tensor {
  if (typeof name !== 'string') throw new TypeError(`initializerByName: name must be a string, got ${quote(name)}`);
  if (!Object.hasOwn(INITIALIZERS, name)) {
    throw new RangeError(`initializerByName: unknown initializer ${quote(name)} (expected one of ${INIT_NAMES.map(quote).join(', ')})`);
  }
  return INITIALIZERS[name];
}
