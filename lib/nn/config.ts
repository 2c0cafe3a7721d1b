// Rebuilding modules from their toConfig() JSON: a registry of type name -> factory. The
// built-in layers are listed here; registerModuleType() adds a user's own modules.
import { describe } from '../shape.js';
import { Module, type ModuleConfig } from './module.js';
import { Conv1d, Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from './pool.js';
import { Flatten } from './shape.js';
import { Dropout } from './dropout.js';
import { BatchNorm2d } from './batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './activation.js';
import { Sequential } from './sequential.js';
import { Residual } from './residual.js';

/** Builds a module from its config's args; build() rebuilds nested configs (Sequential's layers, Residual's branches). */
export type ModuleFactory = (args: unknown[], build: (config: unknown) => Module) => Module;

// The constructors check their own arguments, so the factories only spread them.
const factories = new Map<string, ModuleFactory>([
  ['Conv2d', (a) => new Conv2d(...(a as ConstructorParameters<typeof Conv2d>))],
  ['Conv1d', (a) => new Conv1d(...(a as ConstructorParameters<typeof Conv1d>))],
  ['Linear', (a) => new Linear(...(a as ConstructorParameters<typeof Linear>))],
  ['MaxPool2d', (a) => new MaxPool2d(...(a as ConstructorParameters<typeof MaxPool2d>))],
  ['AvgPool2d', (a) => new AvgPool2d(...(a as ConstructorParameters<typeof AvgPool2d>))],
  ['GlobalAvgPool2d', () => new GlobalAvgPool2d()],
  ['Flatten', (a) => new Flatten(...(a as ConstructorParameters<typeof Flatten>))],
  ['Dropout', (a) => new Dropout(...(a as ConstructorParameters<typeof Dropout>))],
  ['BatchNorm2d', (a) => new BatchNorm2d(...(a as ConstructorParameters<typeof BatchNorm2d>))],
  ['ReLU', () => new ReLU()],
  ['LeakyReLU', (a) => new LeakyReLU(...(a as ConstructorParameters<typeof LeakyReLU>))],
  ['Tanh', () => new Tanh()],
  ['Sigmoid', () => new Sigmoid()],
  ['Softmax', (a) => new Softmax(...(a as ConstructorParameters<typeof Softmax>))],
  ['Sequential', (a, build) => new Sequential(...a.map(build))],
  ['Residual', (a, build) => {
    if (a.length < 1 || a.length > 2) throw new RangeError(`moduleFromConfig: Residual takes [body] or [body, shortcut] configs, got ${a.length}`);
    return new Residual(build(a[0]), a.length > 1 ? build(a[1]) : null);
  }],
]);

/** Makes moduleFromConfig() know a module type of your own (its toConfig() must use this type name). */
export function registerModuleType(type: string, factory: ModuleFactory): void {
  if (typeof type !== 'string' || type === '') throw new TypeError(`registerModuleType: type must be a non-empty string, got ${describe(type)}`);
  if (typeof factory !== 'function') throw new TypeError(`registerModuleType: factory must be a function, got ${describe(factory)}`);
  if (factories.has(type)) throw new RangeError(`registerModuleType: '${type}' is already registered`);
  factories.set(type, factory);
}

/** A fresh module (newly initialised weights) with the architecture config describes. */
export function moduleFromConfig(config: ModuleConfig): Module {
  const op = 'moduleFromConfig';
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError(`${op}: config must be an object { type, args }, got ${describe(config)}`);
  }
  const { type, args } = config as Partial<ModuleConfig>;
  if (typeof type !== 'string') throw new TypeError(`${op}: config.type must be a string, got ${describe(type)}`);
  if (!Array.isArray(args)) throw new TypeError(`${op}: config.args of '${type}' must be an array, got ${describe(args)}`);
  const factory = factories.get(type);
  if (!factory) throw new RangeError(`${op}: unknown module type '${type}' (known: ${[...factories.keys()].join(', ')})`);
  return factory(args, (c) => moduleFromConfig(c as ModuleConfig));
}
