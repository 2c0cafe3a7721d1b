// The base every optimizer shares: the parameter list, a mutable lr, per-parameter state
// (a step count and buffers on the parameter's device, allocated on its first update), skipping
// parameters without a gradient, zeroGrad, and state dicts. Subclasses supply only the
// names of their buffers and the fused update of one parameter.
import { checkTensor } from '../check.js';
import { describe, formatShape } from '../shape.js';
import { deviceOf, type Tensor } from '../tensor.js';
import { backendForDevice } from '../backend/registry.js';
import type { AnyBackend, Storage } from '../backend/types.js';
import { numberOption } from './options.js';

/** One parameter's state: how many updates it has had, and its named buffers (p.size each). */
export interface ParamState {
  step: number;
  buffers: Record<string, Storage>;
}

/** A checkpointable copy of an optimizer's state: plain numbers and arrays (JSON-safe). */
export interface OptimizerStateDict {
  lr: number;
  /** One entry per parameter, in order; null for a parameter not yet updated. */
  state: ({ step: number; buffers: Record<string, number[]> } | null)[];
}

/**
 * The base of the optimizers, as torch.optim.Optimizer: the parameters, a learning rate,
 * zeroGrad(), step(), and a state dict to save and resume.
 */
export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Created on a parameter's first update, as PyTorch's lazily filled state. */
  protected readonly state: (ParamState | null)[];
  private learningRate: number;

  protected constructor(protected readonly name: string, params: Iterable<Tensor>, lr: number) {
    this.params = checkParams(name, params);
    this.state = this.params.map(() => null);
    this.learningRate = checkLr(name, lr);
  }

  /** The learning rate; schedulers and users may change it between steps. */
  get lr(): number {
    return this.learningRate;
  }

  set lr(value: number) {
    this.learningRate = checkLr(this.name, value);
  }

  /** Updates every parameter that has a gradient, once. */
  step(): void {
    this.params.forEach((p, i) => {
      if (p.grad === null) return; // as PyTorch: no gradient, no update and no state
      if (p.grad.size !== p.size) {
        throw new RangeError(`${this.name}.step: params[${i}] has shape ${formatShape(p.shape)} but its grad has shape ${formatShape(p.grad.shape)}`);
      }
      if (p.grad.device !== p.device) {
        throw new TypeError(`${this.name}.step: params[${i}] is on ${p.device} but its grad is on ${p.grad.device}`);
      }
      const be = backendForDevice(p.device);
      this.updateParam(be, p.storage, p.grad.storage, this.beginUpdate(i));
      p.version += 1;
    });
  }

  /**
   * @internal params[i]'s state for the update about to run, made on its first update and with
   * this update counted; step() and the compiled training step's fused update both start here.
   */
  beginUpdate(i: number): ParamState {
    const p = this.params[i];
    const s = (this.state[i] ??= { step: 0, buffers: this.allocateBuffers(backendForDevice(p.device), p.size) });
    s.step += 1;
    return s;
  }

  /** Drops every gradient (PyTorch's set_to_none default), so the next backward starts afresh. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /**
   * The learning rate and per-parameter state (step counts, moment buffers), for checkpoints;
   * loadStateDict() restores it.
   */
  stateDict(): OptimizerStateDict {
    return {
      lr: this.lr,
      state: this.state.map((s) => s && {
        step: s.step,
        buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, b]) => [k, Array.from(backendForDevice(deviceOf(b)).toHost(b))])),
      }),
    };
  }

  /** Restores lr and state from stateDict() of an optimizer of the same kind and options over same-shaped params. */
  loadStateDict(dict: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || !Array.isArray(dict.state)) {
      throw new TypeError(`${op}: dict must be an object like { lr, state: [...] } from stateDict(), got ${describe(dict)}`);
    }
    if (dict.state.length !== this.params.length) {
      throw new RangeError(`${op}: dict has state for ${dict.state.length} parameters but this optimizer has ${this.params.length}`);
    }
    const names = this.bufferNames();
    // Check everything before changing anything, so a bad dict leaves the optimizer as it was.
    const loaded = dict.state.map((s, i): ParamState | null => {
      if (s === null) return null;
      if (typeof s !== 'object' || !Number.isInteger(s.step) || s.step < 1 || s.buffers === null || typeof s.buffers !== 'object') {
        throw new TypeError(`${op}: state[${i}] must be null or { step: positive integer, buffers }, got ${describe(s)}`);
      }
      const have = Object.keys(s.buffers).sort().join(', ');
      if (have !== [...names].sort().join(', ')) {
        throw new RangeError(`${op}: state[${i}] has buffers [${have}] but this optimizer's options need [${names.join(', ')}]`);
      }
      const be = backendForDevice(this.params[i].device);
      const buffers: Record<string, Storage> = {};
      for (const name of names) {
        const values = s.buffers[name];
        if (!Array.isArray(values) || values.length !== this.params[i].size) {
          throw new RangeError(`${op}: state[${i}].buffers.${name} must be an array of ${this.params[i].size} numbers (params[${i}] is ${formatShape(this.params[i].shape)}), got ${describe(values)}`);
        }
        buffers[name] = be.fromHost(Float32Array.from(values));
      }
      return { step: s.step, buffers };
    });
    this.lr = dict.lr;
    loaded.forEach((s, i) => (this.state[i] = s));
  }

  /** The buffers each parameter's state holds, for these options. */
  protected abstract bufferNames(): readonly string[];

  /** One fused pass over a parameter on its backend; state.step already counts this update. */
  protected abstract updateParam(be: AnyBackend, param: Storage, grad: Storage, state: ParamState): void;

  private allocateBuffers(be: AnyBackend, size: number): Record<string, Storage> {
    return Object.fromEntries(this.bufferNames().map((name) => [name, be.alloc(size)]));
  }
}

function checkLr(op: string, lr: unknown): number {
  if (lr === undefined) throw new TypeError(`${op}: lr must be a number, got undefined`);
  return numberOption(op, 'lr', lr, 0, { min: 0 });
}

function checkParams(op: string, params: Iterable<Tensor>): Tensor[] {
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${op}: params must be an iterable of Tensors (e.g. model.parameters()), got ${describe(params)}`);
  }
  const list = [...params];
  if (list.length === 0) throw new RangeError(`${op}: params is empty; there is nothing to optimize`);
  const firstIndex = new Map<Tensor, number>();
  list.forEach((p, i) => {
    checkTensor(op, `params[${i}]`, p);
    if (!p.requiresGrad) throw new RangeError(`${op}: params[${i}] ${formatShape(p.shape)} does not require grad; create it with { requiresGrad: true }`);
    if (p.gradFn !== null) throw new RangeError(`${op}: params[${i}] ${formatShape(p.shape)} is the result of an op, not a leaf; only leaves get gradients`);
    const first = firstIndex.get(p);
    if (first !== undefined) throw new RangeError(`${op}: params[${i}] is the same tensor as params[${first}]; each parameter may appear once`);
    firstIndex.set(p, i);
  });
  return list;
}
