// Module: the base of every layer. It owns named parameters (trained), buffers (state that is
// saved but not trained, like BatchNorm's running statistics) and child modules, each
// registered explicitly so that names and their order are deterministic, as in PyTorch.
//
// JS classes cannot be called like functions: run a module with `model.forward(x)`.
import { checkDevice, Tensor } from '../tensor.js';
import { IntegerTensor } from '../integer-tensor.js';
import { backendForDevice, getDefaultDevice } from '../backend/registry.js';
import type { DeviceName } from '../backend/types.js';
import { describe, formatShape } from '../shape.js';

/** A JSON description of a module's architecture; moduleFromConfig() rebuilds it. */
export interface ModuleConfig {
  type: string;
  /** The constructor's arguments, JSON-safe (Sequential: its children's configs). */
  args: unknown[];
}

/** name -> tensor, parameters then buffers of each module, parents before children. */
export type StateDict = Record<string, Tensor>;

/**
 * What loadStateDict takes: float32 tensors, and integer ones such as the int64
 * num_batches_tracked of a PyTorch file (see readSafetensors' integers).
 */
export type LoadableStateDict = Record<string, Tensor | IntegerTensor>;

/** loadStateDict()'s options. */
export interface LoadStateDictOptions {
  /** Require exactly the module's keys (default true); shapes must match either way. */
  strict?: boolean;
}

const NAME_PATTERN = /^[A-Za-z0-9_]+$/;

/**
 * The base of every layer, as torch.nn.Module: named parameters, buffers and child modules,
 * train/eval modes, to(device), state dicts and a JSON config. Subclasses implement forward(x).
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, Tensor | null>();
  private readonly ownBuffers = new Map<string, Tensor | null>();
  private readonly children = new Map<string, Module>();
  private isTraining = true;

  /** Runs the module on x. */
  abstract forward(x: Tensor): Tensor;

  /** The architecture as JSON (weights are in stateDict()). */
  abstract toConfig(): ModuleConfig;

  /** True in training mode (the default), false after eval(). */
  get training(): boolean {
    return this.isTraining;
  }

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`${this.constructor.name}.train: mode must be a boolean, got ${describe(mode)}`);
    this.isTraining = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode (BatchNorm uses running statistics, Dropout passes through); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Registers a trained tensor (null for an absent one, e.g. no bias); marks it requiresGrad. */
  protected registerParameter<T extends Tensor | null>(name: string, t: T): T {
    this.checkName(name, t);
    if (t) {
      t.requiresGrad = true;
      t.moveTo(getDefaultDevice()); // parameters are created on the default device (setBackend)
    }
    this.ownParameters.set(name, t);
    return t;
  }

  /** Registers saved, untrained state (null for an absent one). */
  protected registerBuffer<T extends Tensor | null>(name: string, t: T): T {
    this.checkName(name, t);
    t?.moveTo(getDefaultDevice());
    this.ownBuffers.set(name, t);
    return t;
  }

  /**
   * Adds a child module under `name`: its parameters and buffers join this module's, prefixed
   * `name.`.
   */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name, null);
    if (!(module instanceof Module)) throw new TypeError(`${this.constructor.name}: child '${name}' must be a Module, got ${describe(module)}`);
    this.children.set(name, module);
    return module;
  }

  private checkName(name: string, t: Tensor | null): void {
    const owner = this.constructor.name;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new TypeError(`${owner}: a registered name must be letters, digits or _, got ${describe(name)}`);
    if (this.ownParameters.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new RangeError(`${owner}: '${name}' is already registered`);
    }
    if (t !== null && !(t instanceof Tensor)) throw new TypeError(`${owner}: '${name}' must be a Tensor or null, got ${describe(t)}`);
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): Array<[string, Module]> {
    return [...this.children.entries()];
  }

  /** This module and every descendant, with dotted names ('' for this one), parents first. */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every parameter with its dotted name ('0.weight', 'features.3.bias'), recursively. */
  namedParameters(): Array<[string, Tensor]> {
    return this.collect((m) => m.ownParameters);
  }

  /** Every parameter once (a tensor shared by two layers is listed once). */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, t]) => t))];
  }

  /** Every buffer with its dotted name ('1.running_mean'), recursively. */
  namedBuffers(): Array<[string, Tensor]> {
    return this.collect((m) => m.ownBuffers);
  }

  /**
   * The buffers (state that is saved but not trained, such as BatchNorm's running statistics) of
   * this module and its children.
   */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  private collect(own: (m: Module) => Map<string, Tensor | null>): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of own(m)) if (t) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /**
   * Moves every parameter and buffer to `device` in place (as PyTorch's module.to), so an
   * optimizer made before the move keeps working; returns this.
   */
  to(device: DeviceName): this {
    const target = checkDevice(`${this.constructor.name}.to`, device);
    for (const t of [...this.parameters(), ...this.buffers()]) t.moveTo(target);
    return this;
  }

  /** Where the parameters live ('cpu' for a module without any). */
  get device(): DeviceName {
    return this.parameters()[0]?.device ?? this.buffers()[0]?.device ?? 'cpu';
  }

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * name -> tensor for every parameter and buffer, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). The tensors are the module's own, not
   * copies: save or clone them before training on.
   */
  stateDict(): StateDict {
    const dict: StateDict = {};
    for (const [prefix, m] of this.namedModules()) {
      for (const own of [m.ownParameters, m.ownBuffers]) {
        for (const [name, t] of own) if (t) dict[prefix ? `${prefix}.${name}` : name] = t;
      }
    }
    return dict;
  }

  /**
   * Copies the values of dict into this module's parameters and buffers. An IntegerTensor's
   * values are converted to float32 only if every one is exact (a RangeError otherwise).
   */
  loadStateDict(dict: LoadableStateDict, options: LoadStateDictOptions = {}): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || dict instanceof Tensor || dict instanceof IntegerTensor) {
      throw new TypeError(`${op}: dict must be an object of name -> Tensor, got ${describe(dict)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
    for (const key of Object.keys(options)) {
      if (key !== 'strict') throw new TypeError(`${op}: unknown option '${key}' (expected strict)`);
    }
    const strict = options.strict ?? true;
    if (typeof strict !== 'boolean') throw new TypeError(`${op}: strict must be a boolean, got ${describe(strict)}`);
    const own = this.stateDict();
    const given = Object.keys(dict);
    if (strict) {
      const missing = Object.keys(own).filter((k) => !Object.hasOwn(dict, k));
      const unexpected = given.filter((k) => !Object.hasOwn(own, k));
      if (missing.length > 0 || unexpected.length > 0) {
        const parts = [];
        if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
        if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
        throw new RangeError(`${op}: the state dict does not match the module (${parts.join('; ')})`);
      }
    }
    // Check everything before copying anything, so a bad dict leaves the module as it was.
    const copies: Array<[Tensor, Tensor | Float32Array]> = [];
    for (const key of given) {
      const target = own[key];
      if (!target) continue;
      const source = dict[key];
      if (!(source instanceof Tensor) && !(source instanceof IntegerTensor)) {
        throw new TypeError(`${op}: '${key}' must be a Tensor or IntegerTensor, got ${describe(source)}`);
      }
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        throw new RangeError(`${op}: '${key}' has shape ${formatShape(source.shape)} but the module expects ${formatShape(target.shape)}`);
      }
      copies.push([target, source instanceof IntegerTensor ? source.toFloat32(`${op}: '${key}'`) : source]);
    }
    for (const [target, source] of copies) {
      const values = source instanceof Float32Array ? source : source.device === 'cpu' ? source.data : source.toArray();
      if (target.isDeferred) {
        target.adopt(hostCopy(values)); // made from the values, never drawn first
      } else {
        backendForDevice(target.device).copyFromHost(values, target.storage);
        target.version += 1;
      }
    }
  }
}

/** A copy of values in the cpu backend's memory (the host cache, for a large tensor). */
function hostCopy(values: Float32Array): Float32Array {
  const copy = backendForDevice('cpu').empty(values.length) as Float32Array;
  copy.set(values);
  return copy;
}
